//! Containers of rows: `&[[F; N]]`, `[[F; N]; M]`, `Vec<[F; N]>`.
//!
//! A container of rows is one flat container of its floats, row after row, with the length
//! of its rows (a constant, as Rust's types have it) recorded beside its storage. The IR never
//! sees rows: `x[i][j]` is the element `i * N + j`, a row read as a value (`let p = x[i];`,
//! `&x[i]` passed on) is a copy, as in Rust, made by a loop of stores; a row written whole
//! (`x[i] = [a, b, c]`) is a loop of stores; `x.len()` counts rows. So the reverse pass,
//! emission and the interpreter learn nothing new; the generated functions flatten nested
//! parameters on entry and shape gradients like them on return (`emit`).
//!
//! A row is named by its container variable and its row index: `x[i]`, or the element
//! binding of a loop over rows (`for p in x.iter()`, whose `p[j]` reads `x[i * N + j]`).
//!
//! Before: `let p = x[i]; s += p[0] * x[i][1];` (`x: &[[f64; 3]]`)
//! After:  `%p.4 = [zero; 3]; for k in 0..3 { p[k] = x[i * 3 + k] }` then
//!         `%9 = index %x.0, %8` with `%8 = add (mul %i, 3), 1`

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote};
use syn::Expr;

use super::{Binding, Lower, R, Val};
use crate::ir::{ArrayInit, Len, Literal, Op, OpKind, Value};

/// The rows of a container.
#[derive(Clone)]
pub(super) enum Row {
    /// Arrays `[F; N]`: their length as an IR value (made at the top of the function, a
    /// constant) and as written.
    Array { len: Value, tokens: TokenStream },
    /// `Vec<F>`s of any lengths (a `&[Vec<F>]` parameter): row `i` is the flat elements
    /// `offsets[i]..offsets[i + 1]` (`offsets`: an inactive container of integers, one more
    /// than the rows, made on entry).
    Vec { offsets: Value },
    /// `Vec<F>`s of one length known only when the function runs (`vec![vec![0.0; m];
    /// n]`): that length and their number.
    Uniform { width: Value, count: Value },
}

impl Row {
    /// Whether two containers with these rows have rows of the same lengths (always, for
    /// arrays: Rust's types say so).
    pub(super) fn same(&self, other: &Row) -> bool {
        match (self, other) {
            (Row::Array { .. }, Row::Array { .. }) => true,
            (Row::Vec { offsets: a }, Row::Vec { offsets: b }) => a == b,
            (Row::Uniform { width: a, count: m }, Row::Uniform { width: b, count: n }) => {
                a == b && m == n
            }
            _ => false,
        }
    }
}

impl Lower<'_> {
    /// The rows `array`'s storage is made of, if it is a container of rows.
    pub(super) fn row(&self, array: Value) -> Option<Row> {
        let root = self.func.storage(array)?;
        self.rows.get(&root).cloned()
    }

    /// Records that `array`'s storage is made of rows of length `tokens` (a constant).
    pub(super) fn make_rows(&mut self, array: Value, tokens: TokenStream, span: Span) {
        let root = self.func.storage(array).unwrap_or(array);
        let key = tokens.to_string();
        let len = match self.row_lens.get(&key) {
            Some(&len) => len,
            None => {
                let len = self.func.new_value(None);
                let kind = match syn::parse2::<syn::LitInt>(tokens.clone()) {
                    Ok(lit) => OpKind::Lit(Literal::Token(lit.token())),
                    Err(_) => OpKind::Path(quote!((#tokens))),
                };
                self.hoisted.push(Op::new(vec![len], kind, span));
                self.row_lens.insert(key, len);
                len
            }
        };
        self.rows.insert(root, Row::Array { len, tokens });
    }

    /// Records that `array`'s storage is made of `Vec` rows starting at `offsets`.
    pub(super) fn make_vec_rows(&mut self, array: Value, offsets: Value) {
        let root = self.func.storage(array).unwrap_or(array);
        self.rows.insert(root, Row::Vec { offsets });
    }

    /// The number of elements of row `row` of `info`'s container.
    pub(super) fn row_len(&mut self, info: &Row, row: Value, span: Span) -> Value {
        match info {
            Row::Array { len, .. } => *len,
            Row::Vec { offsets } => {
                let (start, end) = self.row_bounds(*offsets, row, span);
                self.integer('-', end, start, span)
            }
            Row::Uniform { width, .. } => *width,
        }
    }

    /// The current version of the container variable `name` and its rows; an error if it
    /// holds no rows here.
    fn rows_of(&mut self, name: &str, span: Span) -> R<(Value, Row)> {
        let array = self.container(name, &syn::parse_quote!(#name))?;
        match self.row(array) {
            Some(info) => Ok((array, info)),
            None => Err(self.errors.push(syn::Error::new(
                span,
                format!("`{name}` is no longer a container of rows here"),
            ))),
        }
    }

    /// `x[row].len()` of the container variable `name`, without copying the row; `row` is
    /// checked as indexing checks it.
    pub(super) fn row_length(&mut self, name: &str, row: Value, span: Span) -> R<Value> {
        let (array, info) = self.rows_of(name, span)?;
        if !matches!(info, Row::Vec { .. }) {
            let count = self.count(array, span);
            self.index_check(row, count, span);
        }
        Ok(self.row_len(&info, row, span))
    }

    /// `offsets[row]` and `offsets[row + 1]`: where a `Vec` row starts and ends.
    fn row_bounds(&mut self, offsets: Value, row: Value, span: Span) -> (Value, Value) {
        let one = self.push(OpKind::Lit(Literal::int(1, span)), span, 1)[0];
        let next = self.integer('+', row, one, span);
        let start = self.push(OpKind::Index(offsets, row), span, 1)[0];
        let end = self.push(OpKind::Index(offsets, next), span, 1)[0];
        (start, end)
    }

    /// Records that `array` is used as a flat container (its elements read or counted) while
    /// its rows are not known: a `Vec::new()` then cannot become a container of rows.
    pub(super) fn used_flat(&mut self, array: Value) {
        if self.row(array).is_none()
            && let Some(root) = self.func.storage(array)
            && self.empties.contains(&root)
        {
            self.flat_used.insert(root);
        }
    }

    /// The number of elements of `array` as Rust counts them: rows, for a container of rows.
    pub(super) fn count(&mut self, array: Value, span: Span) -> Value {
        self.used_flat(array);
        match self.row(array) {
            Some(Row::Array { len: n, .. }) => {
                let len = self.push(OpKind::Len(array), span, 1)[0];
                self.integer('/', len, n, span)
            }
            Some(Row::Vec { offsets }) => {
                let len = self.push(OpKind::Len(offsets), span, 1)[0];
                let one = self.push(OpKind::Lit(Literal::int(1, span)), span, 1)[0];
                self.integer('-', len, one, span)
            }
            Some(Row::Uniform { count, .. }) => count,
            None => self.push(OpKind::Len(array), span, 1)[0],
        }
    }

    /// The row `e` names, as its container variable and row index: `x[i]` of a container of
    /// rows (`i` is lowered), or the element binding of a loop over one (`p`, `*p`).
    pub(super) fn row_place(&mut self, e: &Expr) -> R<Option<(String, Value)>> {
        match super::unparen(e) {
            Expr::Unary(u) if matches!(u.op, syn::UnOp::Deref(_)) => self.row_place(&u.expr),
            Expr::Path(p) => {
                let Some(ident) = p.path.get_ident() else {
                    return Ok(None);
                };
                let Some(Binding::Element {
                    container, index, ..
                }) = self.lookup(&ident.to_string()).cloned()
                else {
                    return Ok(None);
                };
                Ok(self.rows_variable(&container).map(|_| (container, index)))
            }
            Expr::Index(i) if !matches!(&*i.index, Expr::Range(_)) => {
                let Expr::Path(p) = super::unparen(&i.expr) else {
                    return Ok(None);
                };
                let Some(name) = p.path.get_ident().map(ToString::to_string) else {
                    return Ok(None);
                };
                if self.rows_variable(&name).is_none() {
                    return Ok(None);
                }
                let index = self.value(&i.index)?;
                Ok(Some((name, index)))
            }
            _ => Ok(None),
        }
    }

    /// Whether `e` names a row (as [`Self::row_place`], without lowering anything).
    pub(super) fn is_row(&self, e: &Expr) -> bool {
        match super::unparen(e) {
            Expr::Unary(u) if matches!(u.op, syn::UnOp::Deref(_)) => self.is_row(&u.expr),
            Expr::Path(p) => p.path.get_ident().is_some_and(|ident| {
                matches!(self.lookup(&ident.to_string()), Some(Binding::Element { container, .. }) if self.rows_variable(container).is_some())
            }),
            Expr::Index(i) if !matches!(&*i.index, Expr::Range(_)) => match super::unparen(&i.expr) {
                Expr::Path(p) => p
                    .path
                    .get_ident()
                    .is_some_and(|ident| self.rows_variable(&ident.to_string()).is_some()),
                _ => false,
            },
            _ => false,
        }
    }

    /// An error if one of `values` (the elements of an array or `vec!` written at `e`) is a
    /// container: nested containers are written as rows of array literals.
    pub(super) fn no_containers_in(&mut self, values: &[Value], e: &impl ToTokens) -> R<()> {
        if values.iter().any(|&v| self.func.storage(v).is_some()) {
            return Err(self.error(e, "a container of rows is written with its rows as array literals (`[[a, b], [c, d]]`, `[[0.0; 3]; n]`, `vec![[0.0; 3]; n]`); to build one from rows held in variables, make it first and assign the rows (`m[0] = r0;`) or push them"));
        }
        Ok(())
    }

    /// The current version of the variable `name` if it holds a container of rows.
    pub(super) fn rows_variable(&self, name: &str) -> Option<Value> {
        match self.lookup(name)? {
            Binding::Val(Val::One(v)) if self.row(*v).is_some() => Some(*v),
            _ => None,
        }
    }

    /// The flat index of column `col` of row `row` of the container variable `name`, checked
    /// as indexing the row is (`x[i][j]` panics if `j` is past the row).
    pub(super) fn row_element(
        &mut self,
        name: &str,
        row: Value,
        col: &Expr,
        span: Span,
    ) -> R<(Value, Value)> {
        let col_value = self.value(col)?;
        let (array, info) = self.rows_of(name, syn::spanned::Spanned::span(col))?;
        let (len, tokens) = match info {
            Row::Array { len, tokens } => (len, tokens),
            Row::Vec { offsets } => {
                let (start, end) = self.row_bounds(offsets, row, span);
                let width = self.integer('-', end, start, span);
                self.index_check(col_value, width, span);
                return Ok((array, self.integer('+', start, col_value, span)));
            }
            // Past the last row, `row * width + col` is past the storage: Rust's panic too.
            Row::Uniform { width, .. } => {
                self.index_check(col_value, width, span);
                let start = self.integer('*', row, width, span);
                return Ok((array, self.integer('+', start, col_value, span)));
            }
        };
        let literal = |e: &Expr| match super::unparen(e) {
            Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Int(i),
                ..
            }) => i.base10_parse::<usize>().ok(),
            _ => None,
        };
        let n = syn::parse2::<syn::LitInt>(tokens.clone())
            .ok()
            .and_then(|l| l.base10_parse::<usize>().ok());
        // A loop index below the row's length as written (`for d in 0..3`, `0..N`).
        let bounded = self.index_bounds.get(&col_value).is_some_and(|end| {
            let written = tokens.to_string();
            *end == written
                || *end == format!("({written})")
                || (end.parse::<usize>().ok())
                    .zip(n)
                    .is_some_and(|(e, n)| e <= n)
        });
        match (literal(col), n) {
            _ if bounded => {}
            (Some(c), Some(n)) if c >= n => {
                return Err(self.error(
                    col,
                    format!("index out of bounds: the row has {n} elements but the index is {c}"),
                ));
            }
            (Some(_), Some(_)) => {}
            _ => self.index_check(col_value, len, span),
        }
        let start = self.integer('*', row, len, span);
        Ok((array, self.integer('+', start, col_value, span)))
    }

    /// `assert!(index < len)`: indexing past the end panics as the original does.
    pub(super) fn index_check(&mut self, col: Value, len: Value, span: Span) {
        let (c, n) = (crate::ir::hole(0, span), crate::ir::hole(1, span));
        let code = quote!(
            ::core::assert!(#c < #n, "index out of bounds: the len is {} but the index is {}", #n, #c)
        );
        self.push(
            OpKind::Effect {
                code,
                uses: vec![col, len],
            },
            span,
            0,
        );
    }

    /// A copy of element `index` of the container variable `name`: a row copied, or the
    /// element loaded.
    pub(super) fn item_copy(&mut self, name: &str, index: Value, span: Span) -> R<Val> {
        let at: Expr = syn::parse_quote!(x);
        let array = self.container(name, &at)?;
        match self.row(array) {
            Some(_) => self.row_copy(name, index, span),
            None => Ok(self.push1(OpKind::Index(array, index), span)),
        }
    }

    /// Part `k` of element `row` of the container variable `name`: of a container of rows,
    /// its flat element; of any other (an inactive `&[[usize; 2]]`), `x[row][k]`.
    pub(super) fn row_part(&mut self, name: &str, row: Value, k: usize, span: Span) -> R<Val> {
        let col: Expr = syn::Expr::Lit(syn::ExprLit {
            attrs: Vec::new(),
            lit: syn::Lit::Int(syn::LitInt::new(&k.to_string(), span)),
        });
        let array = self.container(name, &col)?;
        if self.row(array).is_some() {
            let (array, at) = self.row_element(name, row, &col, span)?;
            return Ok(self.push1(OpKind::Index(array, at), span));
        }
        let element = self.push(OpKind::Index(array, row), span, 1)[0];
        let at = self.push(OpKind::Lit(Literal::int(k, span)), span, 1)[0];
        Ok(self.push1(OpKind::Index(element, at), span))
    }

    /// `a op b` of integers.
    pub(super) fn integer(&mut self, op: char, a: Value, b: Value, span: Span) -> Value {
        // Never `None`: `op` is `*`, `+` or `/`, rows of the fixed table that every `a + b`
        // of the user's is lowered with; no user syntax reaches here with another.
        let prim = crate::prims::infix(op).expect("the table has integer arithmetic");
        self.push(OpKind::Prim(prim, vec![a, b]), span, 1)[0]
    }

    /// The row `row` of the container variable `name`, copied: a new array, as a row read as
    /// a value is in Rust.
    pub(super) fn row_copy(&mut self, name: &str, row: Value, span: Span) -> R<Val> {
        let (_, info) = self.rows_of(name, span)?;
        // A row of no elements is copied without reading the storage: its index is checked.
        if let Row::Uniform { count, .. } = info {
            self.index_check(row, count, span);
        }
        let zero = self.push(OpKind::Placeholder, span, 1)[0];
        let (len, bound) = match &info {
            Row::Array { tokens, .. } => {
                (Len::Const(tokens.clone()), Bound::Written(tokens.clone()))
            }
            Row::Vec { .. } | Row::Uniform { .. } => {
                let width = self.row_len(&info, row, span);
                (Len::Value(width), Bound::Value(width))
            }
        };
        let vec = !matches!(info, Row::Array { .. });
        let copy = self.version(
            OpKind::Array(ArrayInit::Repeat {
                value: zero,
                len,
                vec,
            }),
            span,
            None,
        );
        if let Row::Array { tokens, .. } = &info {
            self.array_lens.insert(copy, tokens.clone());
        }
        let row = element(name, row, false);
        let copy = self.copy_row(Binding::Val(Val::One(copy)), row, bound, span)?;
        Ok(Val::One(copy))
    }

    /// `for k in 0..n { dst[k] = src[k]; }` of two rows of length `n` (a row binding, or a
    /// container of `n`): the final version of `dst`'s container.
    fn copy_row(&mut self, dst: Binding, src: Binding, n: Bound, span: Span) -> R<Value> {
        let (to, from, k) = (
            self.hidden("row", span),
            self.hidden("src", span),
            self.hidden("k", span),
        );
        let (n, width) = match n {
            Bound::Written(tokens) => (tokens, None),
            Bound::Value(v) => {
                let n = self.hidden("n", span);
                (n.to_token_stream(), Some((n.to_string(), v)))
            }
        };
        let copy_loop: Expr =
            syn::parse_quote_spanned!(span=> for #k in 0..(#n) { #to[#k] = #from[#k]; });
        let container = match &dst {
            Binding::Element { container, .. } => container.clone(),
            _ => to.to_string(),
        };
        self.scoped(|this| {
            this.declare(to.to_string(), dst);
            this.declare(from.to_string(), src);
            if let Some((n, v)) = width {
                this.declare(n, Binding::Val(Val::One(v)));
            }
            this.expr(&copy_loop)?;
            this.container(&container, &copy_loop)
        })
    }

    /// `row = val`: the row `row` of the container variable `name` written whole, element
    /// by element, from the container `val` (a copy already if it was a row).
    pub(super) fn row_write(&mut self, name: &str, row: Value, val: Val, span: Span) -> R<()> {
        let array = self.container(name, &syn::parse_quote!(#name))?;
        let (source, info) = match (val, self.row(array)) {
            (Val::One(source), Some(info)) if self.is_container(source) => (source, info),
            _ => {
                return Err(self.errors.push(syn::Error::new(
                    span,
                    "a row is assigned a row: an array (`[a, b, c]`) or another row",
                )));
            }
        };
        let Row::Array { tokens, .. } = info else {
            return Err(self.errors.push(syn::Error::new(
                span,
                "a row of a container of `Vec`s is written element by element (`x[i][j] = ..`): assigned whole, it could change length",
            )));
        };
        let (dst, src) = (element(name, row, true), Binding::Val(Val::One(source)));
        self.copy_row(dst, src, Bound::Written(tokens), span)
            .map(|_| ())
    }

    /// The copy of row `row` of the container variable `name` that a call was lent
    /// (`g(&mut x[i])`) written back: it has the row's length (a `&mut [F]` keeps it).
    pub(super) fn row_write_back(
        &mut self,
        name: &str,
        row: Value,
        copy: Value,
        span: Span,
    ) -> R<()> {
        let array = self.container(name, &syn::parse_quote!(#name))?;
        match self.row(array) {
            Some(info @ (Row::Vec { .. } | Row::Uniform { .. })) => {
                let width = self.row_len(&info, row, span);
                let (dst, src) = (element(name, row, true), Binding::Val(Val::One(copy)));
                self.copy_row(dst, src, Bound::Value(width), span)
                    .map(|_| ())
            }
            _ => self.row_write(name, row, Val::One(copy), span),
        }
    }

    /// `v.push(row)` onto a `Vec` of rows: each element pushed in turn. A `Vec` made empty
    /// learns its rows' length from its first push.
    pub(super) fn push_row(&mut self, name: &str, vec: Value, row: Value, span: Span) -> R<()> {
        if self.row(vec).is_none() {
            let root = self.func.storage(vec).unwrap_or(vec);
            let fresh_empty = self.empties.contains(&root) && !self.flat_used.contains(&root);
            match self.array_len(row) {
                Some(tokens) if fresh_empty => self.make_rows(vec, tokens, span),
                None => return Err(self.errors.push(syn::Error::new(span, VEC_ROWS_BUILT))),
                _ => {
                    let name = match name.starts_with("__ad_") {
                        true => String::from("the `Vec`"),
                        false => format!("`{name}`"),
                    };
                    return Err(self.errors.push(syn::Error::new(
                        span,
                        format!("the length of the rows of {name} is not known here: give it a type where it is made (`let mut v: Vec<[f64; 3]> = Vec::new();`)"),
                    )));
                }
            }
        }
        let Some(Row::Array { tokens: n, .. }) = self.row(vec) else {
            return Err(self.errors.push(syn::Error::new(span, VEC_ROWS_BUILT)));
        };
        let src = self.hidden("src", span);
        let k = self.hidden("k", span);
        let target = super::ident(name, span);
        let push_loop: Expr =
            syn::parse_quote_spanned!(span=> for #k in 0..(#n) { #target.push(#src[#k]); });
        self.scoped(|this| {
            this.declare(src.to_string(), Binding::Val(Val::One(row)));
            this.expr(&push_loop).map(|_| ())
        })
    }

    /// A whole assignment `name = from` where `from` is a container of rows: `name`'s storage
    /// is one too (Rust's types say so), unless it was used flat already (an unannotated
    /// `Vec::new()` counted before), which is an error.
    pub(super) fn rows_from(&mut self, target: Value, from: Value, at: &impl ToTokens) -> R<()> {
        // `q = step(&q, dt);` of rows: the callee returns rows.
        if let (None, Some(Row::Array { tokens, .. })) = (self.row(from), self.row(target)) {
            self.call_returns_rows(from, tokens, proc_macro2::Span::call_site());
        }
        let row = match (self.row(from), self.row(target)) {
            (Some(row), None) => row,
            (Some(a), Some(b)) if !a.same(&b) => {
                return Err(self.error(at, DIFFERENT_VEC_ROWS));
            }
            _ => return Ok(()),
        };
        let root = self.func.storage(target).unwrap_or(target);
        if self.flat_used.contains(&root) {
            return Err(self.error(at, "this `Vec` was used before it was known to hold rows: give it a type where it is made (`let mut v: Vec<[f64; 3]> = Vec::new();`)"));
        }
        self.rows.insert(root, row);
        Ok(())
    }

    /// If `v` is the result of a call just lowered, marks the call as returning rows of
    /// `tokens` (which the caller holds flat) and records them: whether it was one.
    pub(super) fn call_returns_rows(&mut self, v: Value, tokens: TokenStream, span: Span) -> bool {
        let Some(at) = (self.ops.iter())
            .rposition(|op| op.results.first() == Some(&v) && matches!(op.kind, OpKind::Call(_)))
        else {
            return false;
        };
        if !self.is_container(v) {
            return false;
        }
        if let OpKind::Call(call) = &mut self.ops[at].kind {
            call.rows_returned = true;
        }
        self.make_rows(v, tokens, span);
        true
    }

    /// The length of the array `array` (made by `[a, b, ..]` or `[v; N]`, a row copy, an
    /// array parameter), as written, if known.
    fn array_len(&self, array: Value) -> Option<TokenStream> {
        let root = self.func.storage(array)?;
        self.array_lens.get(&root).cloned()
    }

    /// A container of the rows `rows` (arrays held in variables, or a call's results), each
    /// pushed in turn, all `times` times if given: `[r0, r1]`, `[row; M]`, `vec![row; n]`.
    pub(super) fn rows_built(
        &mut self,
        rows: &[Value],
        times: Option<Value>,
        at: &impl ToTokens,
        span: Span,
    ) -> R<Val> {
        let Some(tokens) = rows.first().and_then(|&r| self.array_len(r)) else {
            return Err(self.error(at, "the rows of a container made here are arrays of one length (`[f64; 3]`) written so that their length shows (`[[a, b], [c, d]]`, `vec![[0.0; 3]; n]`, or rows held in array variables), or `Vec`s of one length made by `vec![vec![0.0; m]; n]` and then written by element; `Vec` rows listed one by one are not supported (a container of `Vec`s of different lengths is taken as a parameter, `&[Vec<f64>]`)"));
        };
        let empty = self.version(
            OpKind::Array(ArrayInit::Empty { capacity: None }),
            span,
            None,
        );
        self.make_rows(empty, tokens, span);
        let acc = self.hidden("rows", span);
        let sources: Vec<syn::Ident> = rows.iter().map(|_| self.hidden("src", span)).collect();
        let (k, n) = (self.hidden("k", span), self.hidden("n", span));
        let pushes: Expr = match times {
            Some(_) => {
                let src = &sources[0];
                syn::parse_quote_spanned!(span=> for #k in 0..#n { #acc.push(#src); })
            }
            None => syn::parse_quote_spanned!(span=> { #(#acc.push(#sources);)* }),
        };
        self.scoped(|this| {
            this.declare(acc.to_string(), Binding::Val(Val::One(empty)));
            for (name, &row) in sources.iter().zip(rows) {
                this.declare(name.to_string(), Binding::Val(Val::One(row)));
            }
            if let Some(times) = times {
                this.declare(n.to_string(), Binding::Val(Val::One(times)));
            }
            this.expr(&pushes)?;
            Ok(Val::One(this.container(&acc.to_string(), &pushes)?))
        })
    }

    /// `[[v; N]; M]`, `[[a, b], [c, d]]` and their `vec!` forms (`rows`: the elements of
    /// the outer list, or the repeated row and the count): the flat container, its rows
    /// recorded. `None` if the elements are not rows written as arrays.
    pub(super) fn nested_literal(&mut self, rows: NestedLiteral<'_>, span: Span) -> Option<R<Val>> {
        match rows {
            NestedLiteral::Repeat(row, Count::Expr(count)) if vec_repeat(row).is_some() => {
                let (value, width) = vec_repeat(row)?;
                Some(self.uniform_rows(&value, &width, count, span))
            }
            NestedLiteral::Repeat(row, count) => {
                let Expr::Repeat(inner) = super::unparen(row) else {
                    return None;
                };
                let tokens = inner.len.to_token_stream();
                let value = match self.value(&inner.expr) {
                    Ok(v) => v,
                    Err(e) => return Some(Err(e)),
                };
                let count = match count {
                    Count::Const(m) => {
                        let m = m.to_token_stream();
                        self.constant(&m, span)
                    }
                    Count::Expr(n) => match self.value(n) {
                        Ok(n) => n,
                        Err(e) => return Some(Err(e)),
                    },
                };
                let n = self.constant(&tokens, span);
                let flat = self.flat_repeat(value, count, n, span);
                self.make_rows(flat, tokens, span);
                Some(Ok(Val::One(flat)))
            }
            NestedLiteral::List(elems) => {
                let mut lists = Vec::new();
                for e in elems {
                    let Expr::Array(a) = super::unparen(e) else {
                        return None;
                    };
                    lists.push(a);
                }
                let width = lists.first()?.elems.len();
                let mut values = Vec::new();
                for list in &lists {
                    match self.values(&list.elems) {
                        Ok(vs) => values.extend(vs),
                        Err(e) => return Some(Err(e)),
                    }
                }
                // Containers of rows are `Vec`s, whatever they were written as, so that a whole
                // assignment (`m = [[a, b], [c, d]];`) copies between two of one type.
                let init = ArrayInit::List { values, vec: true };
                let flat = self.version(OpKind::Array(init), span, None);
                self.make_rows(flat, unsuffixed(width), span);
                Some(Ok(Val::One(flat)))
            }
        }
    }

    /// The flat storage of `count` rows of `width` copies of `value`: `vec![value; count *
    /// width]`.
    fn flat_repeat(&mut self, value: Value, count: Value, width: Value, span: Span) -> Value {
        let total = self.integer('*', count, width, span);
        let init = ArrayInit::Repeat {
            value,
            len: Len::Value(total),
            vec: true,
        };
        self.version(OpKind::Array(init), span, None)
    }

    /// `vec![vec![value; width]; count]`: rows of one length known when the function runs.
    fn uniform_rows(&mut self, value: &Expr, width: &Expr, count: &Expr, span: Span) -> R<Val> {
        // Evaluated in Rust's order: the row's value and length, then the count.
        let value = self.value(value)?;
        let width = self.value(width)?;
        let count = self.value(count)?;
        let flat = self.flat_repeat(value, count, width, span);
        let root = self.func.storage(flat).unwrap_or(flat);
        self.rows.insert(root, Row::Uniform { width, count });
        Ok(Val::One(flat))
    }

    /// The constant `tokens` (an array length) as a value.
    pub(super) fn constant(&mut self, tokens: &TokenStream, span: Span) -> Value {
        match syn::parse2::<syn::LitInt>(tokens.clone()) {
            Ok(lit) => self.push(OpKind::Lit(Literal::Token(lit.token())), span, 1)[0],
            Err(_) => self.push(OpKind::Path(quote!((#tokens))), span, 1)[0],
        }
    }

    /// A type annotation on a container of rows (`Vec<[F; 3]>`, `[[F; 2]; 2]`): records the
    /// rows of `v` and gives the annotation of its flat storage (`Vec<F>`), or none where the
    /// flat container's type is not that of a `let` (`None` if `ty` has no rows).
    pub(super) fn flat_annotation(
        &mut self,
        v: Value,
        ty: &syn::Type,
    ) -> Option<Option<syn::Type>> {
        // A container of `Vec`s is held flat: an owned one (`Vec<Vec<F>>`) is typed `Vec<F>`
        // (`vec![vec![0.0; m]; n]` alone would be `{float}`); a borrowed one is left untyped.
        if let Some(Row::Vec { .. } | Row::Uniform { .. }) = self.row(v) {
            let krate = &self.sig.krate;
            return Some(
                vec_of_vecs(ty).map(|elem| syn::parse_quote!(#krate::__private::Vec<#elem>)),
            );
        }
        let (elem, len) = rows_type(ty)?;
        self.func.storage(v)?;
        if self.row(v).is_none() {
            self.make_rows(v, len.to_token_stream(), syn::spanned::Spanned::span(ty));
        }
        // Every local container of rows is a flat `Vec` (`nested_literal`): the annotation
        // types its floats (`[[0.5; 2]; 2]` alone would be `{float}`).
        let krate = &self.sig.krate;
        Some(Some(syn::parse_quote!(#krate::__private::Vec<#elem>)))
    }
}

/// The length of a row for a loop over it: as written (`3`, so that the column checks of
/// its elements are elided), or a value.
enum Bound {
    Written(TokenStream),
    Value(Value),
}

/// Why a container of `Vec`s cannot be built row by row.
const VEC_ROWS_BUILT: &str = "a `Vec` of `Vec`s built row by row is not supported: its rows would change length as the function runs; take it as a parameter (`&[Vec<f64>]`), or use rows of one length (`Vec<[f64; 3]>`), or a flat `Vec<f64>` indexed `x[i * n + j]`";

/// Why a variable cannot hold two containers of `Vec`s in turn.
pub(super) const DIFFERENT_VEC_ROWS: &str = "this variable holds containers of `Vec`s with rows of different lengths in turn, which is not supported: use a variable for each";

/// `E` of `Vec<Vec<E>>`.
pub(super) fn vec_of_vecs(ty: &syn::Type) -> Option<syn::Type> {
    let vec_elem = |ty: &syn::Type| match ty {
        syn::Type::Path(p) if p.qself.is_none() => crate::signature::vec_elem(&p.path),
        _ => None,
    };
    vec_elem(&vec_elem(ty)?)
}

/// The value and length of `vec![value; len]`.
fn vec_repeat(e: &Expr) -> Option<(Expr, Expr)> {
    let Expr::Macro(m) = super::unparen(e) else {
        return None;
    };
    if m.mac.path.segments.last()?.ident != "vec" {
        return None;
    }
    m.mac
        .parse_body_with(|input: syn::parse::ParseStream| {
            let value: Expr = input.parse()?;
            input.parse::<syn::Token![;]>()?;
            let len: Expr = input.parse()?;
            Ok((value, len))
        })
        .ok()
}

/// `k` as an unsuffixed literal, the length of an array written as a list.
pub(super) fn unsuffixed(k: usize) -> TokenStream {
    proc_macro2::Literal::usize_unsuffixed(k).to_token_stream()
}

/// A binding of the row `row` of the container variable `name`.
fn element(name: &str, row: Value, writable: bool) -> Binding {
    Binding::Element {
        container: name.to_string(),
        index: row,
        writable,
    }
}

/// `[[E; N]; M]`, `&[[E; N]]`, `Vec<[E; N]>` (behind `&` too): the row's element type and
/// its length.
pub(super) fn rows_type(ty: &syn::Type) -> Option<(syn::Type, syn::Expr)> {
    match ty {
        syn::Type::Reference(r) => rows_type(&r.elem),
        syn::Type::Paren(p) => rows_type(&p.elem),
        syn::Type::Array(syn::TypeArray { elem, .. })
        | syn::Type::Slice(syn::TypeSlice { elem, .. }) => match &**elem {
            syn::Type::Array(row) => Some(((*row.elem).clone(), row.len.clone())),
            _ => None,
        },
        syn::Type::Path(p) => match crate::signature::vec_elem(&p.path)? {
            syn::Type::Array(row) => Some(((*row.elem).clone(), row.len.clone())),
            _ => None,
        },
        _ => None,
    }
}

/// The rows of a nested container literal.
pub(super) enum NestedLiteral<'a> {
    /// `[row; M]` or `vec![row; n]`.
    Repeat(&'a Expr, Count<'a>),
    /// `[row, row, ..]` or `vec![row, row, ..]`.
    List(Vec<&'a Expr>),
}

/// How many rows a repeat makes.
pub(super) enum Count<'a> {
    Const(&'a Expr),
    Expr(&'a Expr),
}
