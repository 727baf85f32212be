//! Reading the evals' inputs. GradBench sends floats either as `5` or as `5.0`, so every
//! float reader accepts both; a missing or mistyped field is an error naming it.

use serde_json::Value;

/// `value` itself as a float; `what` names it in the error.
pub(super) fn number(value: &Value, what: &str) -> Result<f64, String> {
    value
        .as_f64()
        .ok_or_else(|| format!("`{what}` must be a number, got {value}"))
}

/// The field `key` of an object.
pub(super) fn field<'a>(input: &'a Value, key: &str) -> Result<&'a Value, String> {
    input
        .get(key)
        .ok_or_else(|| format!("input has no `{key}` field"))
}

/// The float field `key`.
pub(super) fn float(input: &Value, key: &str) -> Result<f64, String> {
    number(field(input, key)?, key)
}

/// The non-negative integer field `key`.
pub(super) fn count(input: &Value, key: &str) -> Result<usize, String> {
    let value = field(input, key)?;
    value
        .as_u64()
        .map(|n| n as usize)
        .ok_or_else(|| format!("`{key}` must be a non-negative integer, got {value}"))
}

/// `value` as a flat list of floats; `what` names it in errors.
pub(super) fn floats_of(value: &Value, what: &str) -> Result<Vec<f64>, String> {
    let items = value
        .as_array()
        .ok_or_else(|| format!("`{what}` must be an array"))?;
    items.iter().map(|item| number(item, what)).collect()
}

/// The float-array field `key`.
pub(super) fn floats(input: &Value, key: &str) -> Result<Vec<f64>, String> {
    floats_of(field(input, key)?, key)
}

/// The field `key` holding an array of equally long float arrays, flattened row by row:
/// `(entries, rows, columns)`.
pub(super) fn matrix(input: &Value, key: &str) -> Result<(Vec<f64>, usize, usize), String> {
    matrix_of(field(input, key)?, key)
}

/// `value` as an array of equally long float arrays, flattened row by row.
pub(super) fn matrix_of(value: &Value, what: &str) -> Result<(Vec<f64>, usize, usize), String> {
    let rows = value
        .as_array()
        .ok_or_else(|| format!("`{what}` must be an array of arrays"))?;
    let columns = rows.first().and_then(Value::as_array).map_or(0, Vec::len);
    let mut flat = Vec::with_capacity(rows.len() * columns);
    for (i, row) in rows.iter().enumerate() {
        let row = floats_of(row, what)?;
        if row.len() != columns {
            return Err(format!(
                "`{what}[{i}]` has {} entries, `{what}[0]` has {columns}",
                row.len()
            ));
        }
        flat.extend(row);
    }
    Ok((flat, rows.len(), columns))
}

/// A flat row-major matrix as an array of rows, the shape the evals answer with.
pub(super) fn rows(flat: &[f64], columns: usize) -> Value {
    if columns == 0 {
        return Value::Array(Vec::new());
    }
    flat.chunks(columns)
        .map(|row| Value::from(row.to_vec()))
        .collect()
}

/// The error for a function a module does not have.
pub(super) fn unknown_function(module: &str, function: &str) -> String {
    format!("module {module} has no function `{function}`")
}
