//! Containers: slices, `Vec`s and arrays.
//!
//! A container is a *storage* (a parameter, or what `vec![..]`, `[..]`, `Vec::new()` made);
//! every write makes a new SSA value, a *version* of the same storage, and the variable is
//! rebound to it, exactly as for a scalar assignment. Emitted code mutates the one storage in
//! place; the versions let analysis and the reverse pass see what was read before and after
//! each write.
//!
//! Before: `let mut h = vec![0.0; n]; h[i] = x * 2.0; h[i] += y;`
//! After:  `%h.3 = vec [%2; %n.1]; %h.5 = store %h.3, %i, %4;`
//!         `%6 = index %h.5, %i; %7 = add %6, %y; %h.8 = store %h.5, %i, %7`

use proc_macro2::{Ident, Span};
use quote::ToTokens;
use syn::punctuated::Punctuated;
use syn::{Expr, Token, parse_quote_spanned};

use super::rows::{Count, NestedLiteral, Row};
use super::{Binding, Lower, R, Val};
use crate::ir::{ArrayInit, BinOp, Len, Literal, OpKind, Value};
use crate::signature::Library;

/// Reports each element of a 2-D ndarray array taken by one index (an iteration over its
/// elements, `for v in a.iter()`, lowered to `a[k]`): ndarray has no such index, and the
/// emitted code would not compile.
pub(super) fn check_matrix_indices(
    func: &crate::ir::Func,
    block: &crate::ir::Block,
    errors: &mut crate::errors::Errors,
) {
    let defined_by_array = |v: Value| {
        fn find(block: &crate::ir::Block, v: Value) -> bool {
            block.ops.iter().any(|op| {
                (matches!(op.kind, OpKind::Array(_)) && op.results.contains(&v))
                    || op.kind.blocks().into_iter().any(|b| find(b, v))
            })
        }
        find(&func.body, v)
    };
    for op in &block.ops {
        if let OpKind::Index(base, index) = op.kind
            && func.library(base) == Some(Library::NdarrayMatrix)
            && !defined_by_array(index)
        {
            errors.push(syn::Error::new(op.span, "the elements of a 2-D ndarray array are read by row and column (`a[[i, j]]`): iterate over its rows and columns (`for i in 0..a.nrows() { for j in 0..a.ncols() { .. } }`), not over its elements"));
        }
        for inner in op.kind.blocks() {
            check_matrix_indices(func, inner, errors);
        }
    }
}

/// `e` without a leading `&` (and parentheses): the container a product's operand names.
pub(super) fn strip_ref(e: &Expr) -> &Expr {
    match e {
        Expr::Reference(r) if r.mutability.is_none() => strip_ref(&r.expr),
        Expr::Paren(p) => strip_ref(&p.expr),
        other => other,
    }
}

impl Lower<'_> {
    /// Pushes an op whose one result is a new version of `array` (or, for `array: None`, a
    /// new storage).
    pub(super) fn version(&mut self, kind: OpKind, span: Span, array: Option<Value>) -> Value {
        // A copy of a container of rows is one.
        let rows = match &kind {
            OpKind::Array(ArrayInit::Copy { source, .. }) => self.row(*source),
            _ => None,
        };
        let v = self.push(kind, span, 1)[0];
        let storage = array.and_then(|a| self.func.storage(a)).unwrap_or(v);
        self.func.values[v.index()].storage = Some(storage);
        if let Some(row) = rows {
            self.rows.insert(storage, row);
        }
        v
    }

    /// Makes `new` a version of the storage `like` belongs to, if any.
    pub(super) fn inherit_storage(&mut self, new: Value, like: Value) {
        let storage = self.func.storage(like);
        self.func.values[new.index()].storage = storage;
    }

    /// The value a new binding takes from `val`, the value of `e` (whose ops are numbered from
    /// `first_new` on): Rust's value semantics. A container that existed before is copied, as
    /// `let b = a;` copies an array (and moves a `Vec`, whose old owner is then dead, so a copy
    /// is the same); one made by `e` itself is the binding's own. A borrowed container (a
    /// `&[F]` parameter) is shared, as the reference is: nothing can write it.
    ///
    /// Before: `let b = a;` (an array `a`)
    /// After:  `%b.5 = copy %a.2` (its own storage, emitted `a.to_owned()`)
    pub(super) fn owned(&mut self, val: Val, first_new: usize, e: &Expr) -> R<Val> {
        match val {
            Val::One(v) => {
                let Some(root) = self.func.storage(v) else {
                    // A call's result not yet known to be a container: bound twice, its
                    // writes would show through both names (see `check_unshared`).
                    if v.index() < first_new && self.maybe_containers.contains(&v) {
                        self.shared_unknown.insert(v);
                    }
                    return Ok(Val::One(v));
                };
                let fresh = root.index() >= first_new && self.func.info(root).place.is_none();
                if fresh {
                    return Ok(Val::One(v));
                }
                match self.borrowed_param(root) {
                    Some(false) => Ok(Val::One(v)),
                    Some(true) => Err(self.error(
                        e,
                        "a `&mut` container parameter cannot be bound to another name: its writes would go through both; write through the parameter itself",
                    )),
                    None => {
                        let init = ArrayInit::Copy {
                            source: v,
                            vec: false,
                        };
                        Ok(Val::One(self.version(OpKind::Array(init), super::op_span(e), None)))
                    }
                }
            }
            Val::Tuple(vals) => {
                let vals: Vec<R<Val>> = vals
                    .into_iter()
                    .map(|v| self.owned(v, first_new, e))
                    .collect();
                vals.into_iter().collect::<R<Vec<Val>>>().map(Val::Tuple)
            }
            other => Ok(other),
        }
    }

    /// `name = rhs` where `name` holds a container (`val` is `rhs` lowered, its ops numbered
    /// from `first_new` on): a whole assignment, which writes a copy of the new elements into
    /// the variable's own storage, so that every path (the arms of an `if`, the iterations of
    /// a loop) keeps one storage per variable. `None` when done; otherwise the value to bind as
    /// for any assignment.
    ///
    /// Before: `p = [p[0] * x, p[1]];`
    /// After:  `%7 = array [%5, %6]; %8 = len %p.4; %p.9 = assign %p.4, %7 len %8`
    pub(super) fn whole_assignment(
        &mut self,
        place: &Expr,
        rhs: &Expr,
        val: Val,
        first_new: usize,
    ) -> R<Option<Val>> {
        let Some(name) = local_name(place) else {
            return Ok(Some(val));
        };
        let old = match self.lookup(&name).cloned() {
            Some(Binding::Val(Val::One(old))) if self.func.storage(old).is_some() => old,
            // `let z; z = a;` binds as `let z = a;` would.
            Some(Binding::Unassigned(super::Declared(ty))) => {
                let val = self.owned(val, first_new, rhs)?;
                if let (Some(ty), Val::One(v)) = (ty, &val) {
                    self.annotate(*v, &ty, first_new);
                }
                return Ok(Some(val));
            }
            _ => return Ok(Some(val)),
        };
        if let Expr::Reference(_) = super::unparen(rhs) {
            return Err(self.error(rhs, format!("`{name}` holds a container: assigning it a borrow rebinds a reference, which #[reverse] does not model; bind the borrow to a new name")));
        }
        let root = self.func.storage(old).unwrap_or(old);
        if self.vec_param(root) {
            return Err(self.error(place, format!("`{name}` is a `Vec` parameter: assigning it whole may change its length, and its gradient is shaped like its contents on entry; assign a local copy instead (`let mut {name} = {name};` first)")));
        }
        if self.borrowed_param(root).is_some() {
            return Err(self.error(place, format!("`{name}` borrows a parameter's elements: assigning it rebinds the reference, which #[reverse] does not model; bind the other container to a new name")));
        }
        let Val::One(from) = val else {
            return Err(self.error(
                rhs,
                format!("`{name}` holds a container: assign it one container"),
            ));
        };
        if !self.is_container(from) {
            return Err(self.error(rhs, format!("`{name}` holds a container: assign it a container (`[..]`, `vec![..]`, another container variable)")));
        }
        if self.func.storage(from) == Some(root) {
            return Ok(Some(Val::One(from)));
        }
        self.check_unshared(old, place)?;
        let span = super::op_span(place);
        self.rows_from(old, from, place)?;
        // A call's result may be rows the lowering does not know of (`Vec<[F; N]>`, not
        // annotated): its buffer is reset to as many numbers as it holds.
        let len = match self.row(old) {
            None if self.found_by_use(old) => self.push(OpKind::Count(old), span, 1)[0],
            _ => self.push(OpKind::Len(old), span, 1)[0],
        };
        let assign = OpKind::Assign {
            array: old,
            from,
            len: Some(len),
        };
        let version = self.version(assign, span, Some(old));
        self.reassign(&name, Val::One(version));
        Ok(None)
    }

    /// Whether `root` is a `Vec` parameter taken by value.
    fn vec_param(&self, root: Value) -> bool {
        let Some(position) = self.func.params.iter().position(|p| p.value == root) else {
            return false;
        };
        self.sig.params.get(position).is_some_and(|p| {
            matches!(p.shape, crate::signature::Shape::Slice { .. })
                && !matches!(p.ty, syn::Type::Reference(_))
        })
    }

    /// `Some(mutable)` if `root` is a container parameter taken by reference.
    pub(super) fn borrowed_param(&self, root: Value) -> Option<bool> {
        let position = self.func.params.iter().position(|p| p.value == root)?;
        match &self.sig.params.get(position)?.ty {
            syn::Type::Reference(r) => Some(r.mutability.is_some()),
            _ => None,
        }
    }

    /// Whether `root` is a parameter borrowing a slice (`&[F]`, `&mut [[F; 3]]`).
    fn borrowed_slice(&self, root: Value) -> bool {
        let position = self.func.params.iter().position(|p| p.value == root);
        match position.and_then(|k| self.sig.params.get(k)).map(|p| &p.ty) {
            Some(syn::Type::Reference(r)) => matches!(&*r.elem, syn::Type::Slice(_)),
            _ => false,
        }
    }

    /// An error if `array`'s storage is a call's result that two names were bound to before
    /// it was known to be a container: a write through one would show through the other.
    pub(super) fn check_unshared(&mut self, array: Value, at: &impl quote::ToTokens) -> R<()> {
        let root = self.func.storage(array).unwrap_or(array);
        if self.shared_unknown.contains(&root) {
            return Err(self.error(at, "this container was bound to a second name before it was used as a container, so #[reverse] could not copy it there, and this write would show through both names: bind the copy with `.to_owned()` (`let b = a.to_owned();`)"));
        }
        Ok(())
    }

    /// `x[i]`.
    pub(super) fn index(&mut self, e: &syn::ExprIndex, span: Span) -> R<Val> {
        if let Expr::Range(range) = &*e.index {
            return self.sub_slice(&e.expr, range, span);
        }
        // `x[i][j]` of a container of rows: one flat element.
        if let Some((name, row)) = self.row_place(&e.expr)? {
            let (array, at) = self.row_element(&name, row, &e.index, span)?;
            return Ok(self.push1(OpKind::Index(array, at), span));
        }
        // `x[i]` of a container of rows, as a value: the row, copied.
        if let Some(name) = local_name(&e.expr)
            && self.rows_variable(&name).is_some()
        {
            let index = self.value(&e.index)?;
            return self.row_copy(&name, index, span);
        }
        let base = self.value(&e.expr);
        let index = match (&*e.index, &base) {
            // `m[(i, j)]` of a matrix of nalgebra or ndarray.
            (Expr::Tuple(t), Ok(base)) if t.elems.len() == 2 => match self.func.library(*base) {
                Some(library) if library.is_matrix() => self.matrix_index(*base, library, t, span),
                _ => self.value(&e.index),
            },
            _ => self.value(&e.index),
        };
        let (base, index) = (base?, index?);
        self.is_container(base);
        self.used_flat(base);
        Ok(self.push1(OpKind::Index(base, index), span))
    }

    /// The index of `m[(i, j)]`, `m` a matrix parameter of a library: nalgebra's linear index
    /// `i + j * m.nrows()` (column-major), or ndarray's `[i, j]`; either names the element
    /// the tuple does, in `m` and in its gradient, which has `m`'s type.
    fn matrix_index(
        &mut self,
        base: Value,
        library: Library,
        t: &syn::ExprTuple,
        span: Span,
    ) -> R<Value> {
        let (i, j) = (self.value(&t.elems[0])?, self.value(&t.elems[1])?);
        match library {
            Library::NalgebraMatrix => {
                let nrows = OpKind::Method {
                    recv: base,
                    method: Ident::new("nrows", span),
                    turbofish: None,
                    args: Vec::new(),
                };
                let nrows = self.push(nrows, span, 1)[0];
                // A row past the end panics as nalgebra's `(i, j)` does (a column past the
                // end makes the linear index past the end, which panics too).
                self.index_check(i, nrows, span);
                let column = self.integer('*', j, nrows, span);
                Ok(self.integer('+', i, column, span))
            }
            _ => {
                let list = ArrayInit::List {
                    values: vec![i, j],
                    vec: false,
                };
                Ok(self.push(OpKind::Array(list), span, 1)[0])
            }
        }
    }

    /// `x[a..b]` (any range form) read as a value: a copy of the elements (rows, for a
    /// container of rows), as nothing can write `x` while Rust's borrow of them lives. The
    /// bounds are checked as slicing checks them.
    ///
    /// Before: `linalg::dot(&x[1..], &w)`
    /// After:  `let mut s = Vec::new(); for k in 1..x.len() { s.push(x[k]); }`, then `s`
    pub(super) fn sub_slice(&mut self, base: &Expr, range: &syn::ExprRange, span: Span) -> R<Val> {
        let Some(name) = self.container_name(base) else {
            return Err(self.error(base, "sub-slices (`x[a..b]`) are supported of containers held in variables or fields: bind the container to a name first"));
        };
        if let Some(Row::Vec { .. } | Row::Uniform { .. }) =
            self.rows_variable(&name).and_then(|v| self.row(v))
        {
            return Err(self.error(base, "a sub-slice of a container of `Vec`s is not supported: index its rows from an offset (`x[i + 1]`, `for i in 1..x.len()`)"));
        }
        let x = super::ident(&name, span);
        let (start, end) = (self.hidden("start", span), self.hidden("end", span));
        let start_value: Expr = match &range.start {
            Some(a) => (**a).clone(),
            None => parse_quote_spanned!(span=> 0usize),
        };
        let end_value: Expr = match (&range.end, &range.limits) {
            (Some(b), syn::RangeLimits::HalfOpen(_)) => (**b).clone(),
            (Some(b), syn::RangeLimits::Closed(_)) => parse_quote_spanned!(span=> {
                let end: usize = #b;
                assert!(end != usize::MAX, "attempted to index slice up to maximum usize");
                end + 1
            }),
            (None, _) => parse_quote_spanned!(span=> #x.len()),
        };
        let (copy, k) = (self.hidden("sub", span), self.hidden("k", span));
        let block: Expr = parse_quote_spanned!(span=> {
            let #start: usize = #start_value;
            let #end: usize = #end_value;
            assert!(#start <= #end && #end <= #x.len(), "range {}..{} out of bounds of a slice of length {}", #start, #end, #x.len());
            let mut #copy = Vec::new();
            for #k in #start..#end {
                #copy.push(#x[#k]);
            }
            #copy
        });
        self.expr(&block)
    }

    /// The container variable, its current version and the lowered index of `x[i]` as a
    /// place to write.
    pub(super) fn place(&mut self, e: &syn::ExprIndex) -> R<(String, Value, Value)> {
        // `x[i][j]` of a container of rows, or `p[j]` of a loop's row.
        if let Some((name, row)) = self.row_place(&e.expr)? {
            let span = super::op_span(&Expr::Index(e.clone()));
            let (array, at) = self.row_element(&name, row, &e.index, span)?;
            self.check_unshared(array, &e.expr)?;
            return Ok((name, array, at));
        }
        let name = match &*e.expr {
            Expr::Path(p) if p.qself.is_none() => p.path.get_ident().map(ToString::to_string),
            _ => None,
        };
        let Some(name) = name else {
            return Err(self.error(&e.expr, "only elements of a container variable can be written (`x[i] = ..`, `m[i][j] = ..` of rows `[F; N]`)"));
        };
        let array = self.value(&e.expr)?;
        if !self.is_container(array) {
            return Err(self.error(&e.expr, format!("`{name}` is not a slice, `Vec` or array")));
        }
        if let Expr::Range(range) = &*e.index {
            return Err(self.error(
                range,
                "writing a sub-slice is not supported yet: write single elements in a loop",
            ));
        }
        let index = self.value(&e.index)?;
        self.check_unshared(array, &e.expr)?;
        self.used_flat(array);
        Ok((name, array, index))
    }

    /// `x[i] = value` (`x` is rebound to the new version).
    pub(super) fn store(
        &mut self,
        name: &str,
        array: Value,
        index: Value,
        value: Val,
        span: Span,
    ) -> R<()> {
        let Val::One(value) = value else {
            return Err(self.errors.push(syn::Error::new(
                span,
                "an element must be assigned a single value",
            )));
        };
        let version = self.version(
            OpKind::Store {
                array,
                index,
                value,
            },
            span,
            Some(array),
        );
        self.reassign(name, Val::One(version));
        Ok(())
    }

    /// `vec![v; n]` and `vec![a, b, ..]`; `None` for other macros.
    pub(super) fn vec_macro(&mut self, mac: &syn::Macro, span: Span) -> Option<R<Val>> {
        let name = mac.path.segments.last()?.ident.to_string();
        if name != "vec" {
            return None;
        }
        let repeat = mac.parse_body_with(|input: syn::parse::ParseStream| {
            let value: Expr = input.parse()?;
            input.parse::<Token![;]>()?;
            let len: Expr = input.parse()?;
            Ok((value, len))
        });
        if let Ok((value, len)) = &repeat
            && let Some(nested) =
                self.nested_literal(NestedLiteral::Repeat(value, Count::Expr(len)), span)
        {
            return Some(nested);
        }
        if let Ok(elems) = mac.parse_body_with(Punctuated::<Expr, Token![,]>::parse_terminated)
            && repeat.is_err()
            && let Some(nested) =
                self.nested_literal(NestedLiteral::List(elems.iter().collect()), span)
        {
            return Some(nested);
        }
        Some(match repeat {
            Ok((value, len)) => {
                let (value, len) = (self.value(&value), self.value(&len));
                match (value, len) {
                    (Ok(value), Ok(len)) => {
                        if self.func.storage(value).is_some() {
                            // `vec![row; n]` of a row held in a variable.
                            return Some(self.rows_built(&[value], Some(len), mac, span));
                        }
                        let init = ArrayInit::Repeat {
                            value,
                            len: Len::Value(len),
                            vec: true,
                        };
                        Ok(Val::One(self.version(OpKind::Array(init), span, None)))
                    }
                    (Err(e), _) | (_, Err(e)) => Err(e),
                }
            }
            Err(_) => match mac.parse_body_with(Punctuated::<Expr, Token![,]>::parse_terminated) {
                Ok(elems) => self.values(&elems).and_then(|values| {
                    if !values.is_empty() && values.iter().all(|&v| self.func.storage(v).is_some())
                    {
                        return self.rows_built(&values, None, mac, span);
                    }
                    self.no_containers_in(&values, mac)?;
                    let empty = values.is_empty();
                    let init = ArrayInit::List { values, vec: true };
                    let made = self.version(OpKind::Array(init), span, None);
                    if empty {
                        // `vec![]`, as `Vec::new()`.
                        self.empties.insert(made);
                    }
                    Ok(Val::One(made))
                }),
                Err(error) => Err(self.errors.push(error)),
            },
        })
    }

    /// `[v; N]`.
    pub(super) fn repeat(&mut self, e: &syn::ExprRepeat, span: Span) -> R<Val> {
        let rows = NestedLiteral::Repeat(&e.expr, Count::Const(&e.len));
        if let Some(nested) = self.nested_literal(rows, span) {
            return nested;
        }
        let value = self.value(&e.expr)?;
        if self.func.storage(value).is_some() {
            // `[row; M]` of a row held in a variable.
            let times = self.constant(&e.len.to_token_stream(), span);
            return self.rows_built(&[value], Some(times), &e.expr, span);
        }
        let init = ArrayInit::Repeat {
            value,
            len: Len::Const(e.len.to_token_stream()),
            vec: false,
        };
        let array = self.version(OpKind::Array(init), span, None);
        self.array_lens.insert(array, e.len.to_token_stream());
        Ok(Val::One(array))
    }

    /// `[a, b, ..]`.
    pub(super) fn array_literal(&mut self, e: &syn::ExprArray, span: Span) -> R<Val> {
        let rows = NestedLiteral::List(e.elems.iter().collect());
        if let Some(nested) = self.nested_literal(rows, span) {
            return nested;
        }
        let values = self.values(&e.elems)?;
        if !values.is_empty() && values.iter().all(|&v| self.func.storage(v).is_some()) {
            // `[r0, r1]` of rows held in variables.
            return self.rows_built(&values, None, e, span);
        }
        self.no_containers_in(&values, e)?;
        let len = values.len();
        let init = ArrayInit::List { values, vec: false };
        let array = self.version(OpKind::Array(init), span, None);
        self.array_lens.insert(array, super::rows::unsuffixed(len));
        Ok(Val::One(array))
    }

    /// `Vec::new()`, `Vec::with_capacity(n)`; `None` for other calls.
    pub(super) fn vec_constructor(
        &mut self,
        func: &syn::ExprPath,
        args: &Punctuated<Expr, Token![,]>,
        span: Span,
    ) -> Option<R<Val>> {
        let segments: Vec<String> = func
            .path
            .segments
            .iter()
            .map(|s| s.ident.to_string())
            .collect();
        let owner_is_vec = segments.len() >= 2 && segments[segments.len() - 2] == "Vec";
        let capacity = match (
            owner_is_vec,
            segments.last().map(String::as_str),
            args.len(),
        ) {
            (true, Some("new"), 0) => None,
            (true, Some("with_capacity"), 1) => Some(self.value(&args[0])),
            _ => return None,
        };
        let capacity = match capacity.transpose() {
            Ok(capacity) => capacity,
            Err(e) => return Some(Err(e)),
        };
        let init = ArrayInit::Empty { capacity };
        let empty = self.version(OpKind::Array(init), span, None);
        self.empties.insert(empty);
        Some(Ok(Val::One(empty)))
    }

    /// `module::name(..)` of a runtime function in the table (`linalg::dot`, `special::erf`),
    /// by any path ending in those two segments; `None` for other calls. The path is kept
    /// (`written_paths`): the emitted call checks that it names the runtime's function, so a
    /// module of the user's called `linalg` or `special` is a type error, not a wrong
    /// derivative.
    ///
    /// Before: `let p = special::erf(x * y);`
    /// After:  `%p.3 = erf %2` (a `prim` op; emitted as `same_fn(<rt>::special::erf, special::erf)(%2)`)
    pub(super) fn runtime_function_call(
        &mut self,
        func: &syn::ExprPath,
        args: &Punctuated<Expr, Token![,]>,
        span: Span,
    ) -> Option<R<Val>> {
        let segments: Vec<&syn::PathSegment> = func.path.segments.iter().collect();
        let [.., module, name] = segments.as_slice() else {
            return None;
        };
        if func.qself.is_some() || !module.arguments.is_none() || !name.arguments.is_none() {
            return None;
        }
        let prim = crate::prims::function(
            &module.ident.to_string(),
            &name.ident.to_string(),
            args.len(),
        )?;
        let mut operands = Vec::new();
        let mut failed = None;
        for (arg, kind) in args.iter().zip(prim.operands) {
            let value = match kind {
                crate::prims::Operand::Array => self.container_arg(arg, &module.ident, &name.ident),
                _ => self.value(arg),
            };
            match value {
                Ok(v) => operands.push(v),
                Err(e) => failed = Some(e),
            }
        }
        if let Some(e) = failed {
            return Some(Err(e));
        }
        let kind = OpKind::Prim(prim, operands);
        let result = match prim.array_result {
            true => self.version(kind, span, None),
            false => self.push(kind, span, 1)[0],
        };
        self.func
            .written_paths
            .insert(result, func.to_token_stream());
        Some(Ok(Val::One(result)))
    }

    /// `x.dot(&y)`, `a.dot(&x)` (ndarray's matrix products), `m.transpose()`, `a.t()` of
    /// nalgebra's or ndarray's containers (`recv` one): the product, a primitive of the
    /// table computed by the library itself; `None` for another method.
    pub(super) fn library_method(
        &mut self,
        m: &syn::ExprMethodCall,
        recv: Value,
        span: Span,
    ) -> Option<R<Val>> {
        use Library::{NalgebraMatrix, NalgebraVector, NdarrayMatrix, NdarrayVector};
        let library = self.func.library(recv)?;
        let method = m.method.to_string();
        let (name, operands, result) = match (method.as_str(), m.args.len(), library) {
            ("transpose", 0, NalgebraMatrix) | ("t", 0, NdarrayMatrix) => {
                ("lib_transpose", vec![recv], Some(library))
            }
            ("dot", 1, _) => {
                let arg = match self.value(strip_ref(&m.args[0])) {
                    Ok(arg) => arg,
                    Err(e) => return Some(Err(e)),
                };
                let product = match (library, self.func.library(arg)) {
                    (NalgebraVector, Some(NalgebraVector))
                    | (NalgebraMatrix, Some(NalgebraMatrix))
                    | (NdarrayVector, Some(NdarrayVector)) => ("lib_dot", None),
                    (NdarrayMatrix, Some(NdarrayVector)) => ("lib_matvec", Some(NdarrayVector)),
                    (NdarrayMatrix, Some(NdarrayMatrix)) => ("lib_matmul", Some(NdarrayMatrix)),
                    _ => {
                        return Some(Err(self.error(m, "`dot` of these operands is not one #[reverse] models: it differentiates `x.dot(&y)` of two vectors (or two nalgebra matrices) and ndarray's `a.dot(&x)`, `a.dot(&b)` of a matrix and a vector or matrix, all of the same library")));
                    }
                };
                (product.0, vec![recv, arg], product.1)
            }
            _ => return None,
        };
        Some(
            self.library_product(name, operands, result, span)
                .map(Val::One),
        )
    }

    /// `m * v`, `a * b` of nalgebra's containers (`lhs`, `rhs`); `None` if neither is a
    /// library's container, an error if one is and the product is not one the macro models.
    pub(super) fn library_mul(
        &mut self,
        lhs: Value,
        rhs: Value,
        b: &syn::ExprBinary,
        span: Span,
    ) -> Option<R<Val>> {
        use Library::{NalgebraMatrix, NalgebraVector};
        let (left, right) = (self.func.library(lhs), self.func.library(rhs));
        let (name, result) = match (left, right) {
            (None, None) => return None,
            (Some(NalgebraMatrix), Some(NalgebraVector)) => ("lib_matvec", NalgebraVector),
            (Some(NalgebraMatrix), Some(NalgebraMatrix)) => ("lib_matmul", NalgebraMatrix),
            _ => {
                return Some(Err(self.error(b, "this product of nalgebra or ndarray containers is not one #[reverse] models: it differentiates nalgebra's `m * v` and `a * b` of a matrix and a vector or matrix, and ndarray's `a.dot(&x)`; write other products element by element")));
            }
        };
        Some(
            self.library_product(name, vec![lhs, rhs], Some(result), span)
                .map(Val::One),
        )
    }

    /// The op of the product `name` of `operands`; a container of `result`'s library, or
    /// a float.
    fn library_product(
        &mut self,
        name: &str,
        operands: Vec<Value>,
        result: Option<Library>,
        span: Span,
    ) -> R<Value> {
        let Some(prim) = crate::prims::library_product(name) else {
            let message = format!("internal error: `{name}` is not a row of the primitives' table");
            return Err(self.error(Ident::new(name, span), message));
        };
        let kind = OpKind::Prim(prim, operands);
        Ok(match result {
            Some(library) => {
                let v = self.version(kind, span, None);
                self.func.values[v.index()].library = Some(library);
                v
            }
            None => self.push(kind, span, 1)[0],
        })
    }

    /// A container argument: `x`, `&x` or `&mut x` of a container.
    fn container_arg(
        &mut self,
        arg: &Expr,
        module: &proc_macro2::Ident,
        function: &proc_macro2::Ident,
    ) -> R<Value> {
        let inner = match arg {
            Expr::Reference(r) => &*r.expr,
            other => other,
        };
        let value = self.value(inner)?;
        if !self.is_container(value) {
            return Err(self.error(arg, format!("`{module}::{function}` takes containers here: pass a slice, `Vec` or array, as `&x`")));
        }
        Ok(value)
    }

    /// `x.iter().sum()` (`sum::<F>()` too) of a container; `None` for other methods.
    pub(super) fn iter_sum(&mut self, m: &syn::ExprMethodCall, span: Span) -> Option<R<Val>> {
        if m.method != "sum" || !m.args.is_empty() {
            return None;
        }
        let Expr::MethodCall(iter) = &*m.receiver else {
            return None;
        };
        if iter.method != "iter" || !iter.args.is_empty() {
            return None;
        }
        let array = match self.value(&iter.receiver) {
            Ok(v) if self.is_container(v) => v,
            Ok(_) => return None,
            Err(e) => return Some(Err(e)),
        };
        let sum = crate::prims::function("linalg", "sum", 1)?;
        Some(Ok(self.push1(OpKind::Prim(sum, vec![array]), span)))
    }

    /// `x.push(v)`, `x.len()`, `x.is_empty()`, and the copies `x.clone()`, `x.to_owned()`,
    /// `x.to_vec()` on a container; `None` for other methods.
    pub(super) fn container_method(
        &mut self,
        m: &syn::ExprMethodCall,
        recv: Value,
        args: &[Value],
        span: Span,
    ) -> Option<R<Val>> {
        let method = m.method.to_string();
        let known = [
            "len", "is_empty", "push", "clone", "to_owned", "to_vec", "swap",
        ];
        if !known.contains(&method.as_str()) || !self.is_container(recv) {
            return None;
        }
        match (method.as_str(), args) {
            // `clone` of a borrowed slice copies the reference (`&Vec` and `&[F; N]` clone
            // what they point to).
            ("clone", []) if self.borrowed_slice(self.func.storage(recv).unwrap_or(recv)) => {
                Some(Ok(Val::One(recv)))
            }
            ("clone" | "to_owned" | "to_vec", []) => {
                let init = ArrayInit::Copy {
                    source: recv,
                    vec: method == "to_vec",
                };
                Some(Ok(Val::One(self.version(OpKind::Array(init), span, None))))
            }
            ("len", []) => Some(Ok(Val::One(self.count(recv, span)))),
            // `x.swap(i, j)`: the two elements (rows) exchanged through a copy.
            ("swap", [i, j]) => {
                let name = local_name(&m.receiver)?;
                let (a, b, t) = (
                    self.hidden("a", span),
                    self.hidden("b", span),
                    self.hidden("t", span),
                );
                let x = super::ident(&name, span);
                let swap: Expr = parse_quote_spanned!(span=> {
                    let #t = #x[#a];
                    #x[#a] = #x[#b];
                    #x[#b] = #t;
                });
                let (i, j) = (*i, *j);
                Some(self.scoped(|this| {
                    this.declare(a.to_string(), Binding::Val(Val::One(i)));
                    this.declare(b.to_string(), Binding::Val(Val::One(j)));
                    this.expr(&swap).map(|_| Val::Unit)
                }))
            }
            ("is_empty", []) => {
                let len = self.push(OpKind::Len(recv), span, 1)[0];
                let zero = self.push1(OpKind::Lit(Literal::int(0, span)), span);
                let Val::One(zero) = zero else { return None };
                Some(Ok(self.push1(OpKind::Binary(BinOp::Eq, len, zero), span)))
            }
            ("push", [value]) => {
                let name = match &*m.receiver {
                    Expr::Path(p) if p.qself.is_none() => {
                        p.path.get_ident().map(ToString::to_string)
                    }
                    _ => None,
                };
                let Some(name) = name else {
                    return Some(Err(self.error(
                        &m.receiver,
                        "`push` onto a container variable: `v.push(x)`",
                    )));
                };
                if let Err(e) = self.check_unshared(recv, &m.receiver) {
                    return Some(Err(e));
                }
                if self.func.storage(*value).is_some() {
                    return Some(self.push_row(&name, recv, *value, span).map(|()| Val::Unit));
                }
                let version = self.version(
                    OpKind::Append {
                        array: recv,
                        value: *value,
                    },
                    span,
                    Some(recv),
                );
                self.reassign(&name, Val::One(version));
                Some(Ok(Val::Unit))
            }
            _ => None,
        }
    }
}

/// The local variable `place` names: `x`, `(x)`.
fn local_name(place: &Expr) -> Option<String> {
    match super::unparen(place) {
        Expr::Path(p) if p.qself.is_none() => p.path.get_ident().map(ToString::to_string),
        _ => None,
    }
}
