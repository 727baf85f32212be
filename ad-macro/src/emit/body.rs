//! Writing an adjoint program's ops as Rust statements.

use std::cell::OnceCell;
use std::collections::{HashMap, HashSet};

use proc_macro2::{Delimiter, Group, Ident, Punct, Spacing, Span, TokenStream, TokenTree};
use quote::{ToTokens, format_ident, quote, quote_spanned};

use crate::analysis::nonfinite::Site;
use crate::ir::{
    Adaptor, Arg, ArrayInit, Block, Call, Callee, Checkpointed, FnPath, Func, Len, LoopView,
    Nesting, Op, OpKind, Pass, Range, Rule, Seed, Slot, StashKind, Through, UnOp, Value,
    hole_index,
};
use crate::prims::{Prim, Syntax};

/// Writes the ops of an adjoint program as Rust statements.
pub(super) struct Body<'a> {
    pub(super) func: &'a Func,
    pub(super) krate: &'a syn::Path,
    /// Values something reads; the others are bound to `_`.
    pub(super) used: HashSet<Value>,
    /// Values written at their uses instead of bound to a local.
    pub(super) inline: HashMap<Value, TokenStream>,
    /// Values a method is called on or a `&mut` is taken of: bound with `let mut`.
    pub(super) mutable: HashSet<Value>,
    /// The storages written anywhere ([`Func::mutated_storages`]): their loads are bound where
    /// they happen, and a parameter among them taken by value gets a buffer of its own.
    pub(super) written: HashSet<Value>,
    /// The gradient buffers of container parameters that are the caller's (in `f_grad_into`
    /// and pullbacks): what each is instead of a fresh one.
    pub(super) into: HashMap<Value, TokenStream>,
    /// In a pullback: leave out side-effect statements, which ran in the primal call.
    pub(super) quiet: bool,
    /// The struct of each inline field read.
    pub(super) field_bases: HashMap<Value, Value>,
    /// Values whose type rustc may not know yet where they are read: zero placeholders and
    /// what carries them (region arguments and results). A sum with one of them as an operand
    /// is written as a function call, which lets inference unify the operands first.
    pub(super) untyped: HashSet<Value>,
    /// Locals an op changes in place (the copies `fresh` makes, and `&mut` of them): a
    /// pullback must run what changes them again, since what follows reads them.
    pub(super) changed_locals: HashSet<Value>,
    /// Each value's identifier, made on first use: the same value is named at its
    /// definition and at every use, and formatting a name is a large part of emitting.
    pub(super) idents: Vec<OnceCell<Ident>>,
    /// Adjoint buffers of local containers made in a loop body: made in the allocation the
    /// previous iteration's gave back (`__private::zeros_from`, `keep`), one allocation per
    /// call instead of one per iteration.
    pub(super) recycled: HashSet<Value>,
    /// With `#[reverse(debug_nonfinite)]`: the values checked after their `let`, and the
    /// function's name for the report.
    pub(super) checks: Option<(&'a HashMap<Value, Site>, &'a str)>,
}

impl<'a> Body<'a> {
    pub(super) fn new(
        func: &'a Func,
        krate: &'a syn::Path,
        checks: Option<(&'a HashMap<Value, Site>, &'a str)>,
    ) -> Body<'a> {
        let mut body = Body {
            func,
            krate,
            used: func.used_values(),
            inline: HashMap::new(),
            mutable: HashSet::new(),
            written: func.mutated_storages(),
            into: HashMap::new(),
            quiet: false,
            field_bases: HashMap::new(),
            untyped: HashSet::new(),
            changed_locals: HashSet::new(),
            idents: vec![OnceCell::new(); func.values.len()],
            recycled: HashSet::new(),
            checks,
        };
        body.recycled = local_buffers_in_loops(func, &func.body, false);
        body.find_untyped(&func.body);
        body.scan(&func.body);
        // Writing through a field (`&mut dp.w`) needs the struct `let mut`.
        let mut changed = true;
        while changed {
            changed = false;
            for (field, base) in &body.field_bases {
                if body.mutable.contains(field) && body.mutable.insert(*base) {
                    changed = true;
                }
            }
        }
        body
    }

    /// Fills `untyped`, in program order: what rustc has seen typed by then decides.
    fn find_untyped(&mut self, block: &Block) {
        for op in &block.ops {
            match &op.kind {
                OpKind::Placeholder if op.ty.is_none() => {
                    self.untyped.extend(op.results.iter().copied());
                }
                // `0.5` is a `{float}` until its uses say which.
                OpKind::Lit(crate::ir::Literal::Token(lit))
                    if op.ty.is_none() && is_unsuffixed_float(lit) =>
                {
                    self.untyped.extend(op.results.iter().copied());
                }
                // A carried value is untyped through the body if its initial value is.
                OpKind::For { .. } | OpKind::Loop { .. } => {
                    let Some(parts) = op.kind.as_loop() else {
                        continue;
                    };
                    for (j, v) in parts.init.iter().enumerate() {
                        if self.untyped.contains(v) {
                            self.untyped.extend(parts.carried.get(j).copied());
                            self.untyped.extend(op.results.get(j).copied());
                        }
                    }
                    self.find_untyped(parts.body);
                }
                // Likewise through the reverse of a `#[checkpoint]` loop: the carried values
                // and the carried adjoints.
                OpKind::Checkpointed(c) => {
                    let n = c.init.len();
                    for (j, v) in c.init.iter().enumerate() {
                        if self.untyped.contains(v) {
                            self.untyped.insert(c.advance.args[1 + j]);
                            self.untyped.insert(c.step.args[1 + j]);
                        }
                    }
                    for (i, v) in c.adjoints.iter().enumerate() {
                        if self.untyped.contains(v) {
                            self.untyped.insert(c.step.args[1 + n + i]);
                            self.untyped.extend(op.results.get(i).copied());
                        }
                    }
                    self.find_untyped(&c.advance);
                    self.find_untyped(&c.step);
                }
                // After an `if`, a result is typed if either arm's value is.
                OpKind::If { then, els, .. } => {
                    self.find_untyped(then);
                    self.find_untyped(els);
                    for (j, &r) in op.results.iter().enumerate() {
                        let arm =
                            |b: &Block| b.yields.get(j).is_some_and(|y| self.untyped.contains(y));
                        if arm(then) && arm(els) {
                            self.untyped.insert(r);
                        }
                    }
                }
                // A rule or an operator on untyped values only gives untyped values.
                kind => {
                    for inner in kind.blocks() {
                        self.find_untyped(inner);
                    }
                    let operands = kind.operands();
                    // (A `let` with a type annotation types its value.)
                    if op.ty.is_none()
                        && !operands.is_empty()
                        && operands.iter().all(|v| self.untyped.contains(v))
                    {
                        self.untyped.extend(op.results.iter().copied());
                    }
                }
            }
        }
    }

    /// Finds the inline and the mutable values, in program order.
    fn scan(&mut self, block: &Block) {
        for op in &block.ops {
            match &op.kind {
                OpKind::Method { recv, .. }
                | OpKind::Fresh(recv)
                | OpKind::Ref {
                    mutable: true,
                    value: recv,
                } => {
                    self.mutable
                        .insert(self.func.storage(*recv).unwrap_or(*recv));
                    let local = match &op.kind {
                        OpKind::Fresh(v) => !self.func.params.iter().any(|p| p.value == *v),
                        OpKind::Ref { value, .. } => self.changed_locals.contains(value),
                        _ => false,
                    };
                    if local {
                        self.changed_locals.extend(op.results.iter().copied());
                    }
                }
                // Containers written in place, and adjoint buffers, are `let mut`.
                OpKind::Store { array, .. }
                | OpKind::Append { array, .. }
                | OpKind::Assign { array, .. } => {
                    self.mutable
                        .insert(self.func.storage(*array).unwrap_or(*array));
                }
                OpKind::BufferAdd { buffer, .. }
                | OpKind::BufferReset { buffer, .. }
                | OpKind::BufferTake { buffer, .. }
                | OpKind::BufferAddAll { buffer, .. }
                | OpKind::AddTo { place: buffer, .. }
                | OpKind::BufferPop(buffer) => {
                    self.mutable.insert(*buffer);
                }
                OpKind::Pullback { args, .. } => {
                    self.mutable.extend(args.iter().filter_map(|a| match a {
                        Arg::Mut(buffer) => Some(*buffer),
                        _ => None,
                    }));
                }
                OpKind::Call(call) => {
                    for arg in call.args.iter().filter(|a| a.pass == Pass::Mut) {
                        self.mutable
                            .insert(self.func.storage(arg.value).unwrap_or(arg.value));
                    }
                }
                OpKind::CallPullback { call, seed, slots } => {
                    for arg in call.args.iter().filter(|a| a.pass == Pass::Mut) {
                        self.mutable.insert(arg.value);
                    }
                    if let Seed::Buffer(buffer) = seed {
                        self.mutable.insert(*buffer);
                    }
                    self.mutable.extend(slots.iter().filter_map(|s| s.value()));
                }
                _ => {}
            }
            for inner in op.kind.blocks() {
                self.scan(inner);
            }
            self.find_inline(op);
        }
    }

    /// Step of [`Self::scan`]: whether `op`'s value is written at its uses instead of bound
    /// to a local (a literal, a constant, a field read, a load nothing can change before its
    /// uses), and how.
    fn find_inline(&mut self, op: &Op) {
        let [result] = op.results[..] else { return };
        if op.ty.is_some() || self.func.info(result).name.is_some() {
            return;
        }
        let tokens = match &op.kind {
            OpKind::Lit(lit) => lit.to_token_stream(),
            OpKind::Path(path) => path.to_token_stream(),
            OpKind::Field(base, member) => {
                self.field_bases.insert(result, *base);
                let base = self.val(*base);
                quote_spanned!(op.span=> #base.#member)
            }
            // A load is written at its use only if nothing can write the element in
            // between.
            OpKind::Index(base, index)
                if !self
                    .written
                    .contains(&self.func.storage(*base).unwrap_or(*base)) =>
            {
                let (base, index) = (self.val(*base), self.val(*index));
                quote_spanned!(op.span=> #base[#index])
            }
            _ => return,
        };
        self.inline.insert(result, tokens);
    }

    /// How the code refers to `v`.
    pub(super) fn val(&self, v: Value) -> TokenStream {
        match self.inline.get(&v) {
            Some(tokens) => tokens.clone(),
            None => self.ident(v).to_token_stream(),
        }
    }

    /// The identifier of `v` ([`Func::ident`]).
    pub(super) fn ident(&self, v: Value) -> Ident {
        match self.idents.get(v.index()) {
            Some(cell) => cell.get_or_init(|| self.func.ident(v)).clone(),
            None => self.func.ident(v),
        }
    }

    /// The tokens of a verbatim macro with its holes ([`crate::ir::hole`]) filled with the
    /// values in `uses`.
    fn fill_holes(&self, tokens: TokenStream, uses: &[Value]) -> TokenStream {
        tokens
            .into_iter()
            .map(|tree| match tree {
                TokenTree::Group(g) => {
                    let mut group = Group::new(g.delimiter(), self.fill_holes(g.stream(), uses));
                    group.set_span(g.span());
                    TokenTree::Group(group)
                }
                TokenTree::Ident(ident) => match hole_index(&ident).and_then(|k| uses.get(k)) {
                    // An inline value is an expression: grouped, it stays one.
                    Some(&v) => match self.inline.get(&v) {
                        Some(tokens) => {
                            TokenTree::Group(Group::new(Delimiter::Parenthesis, tokens.clone()))
                        }
                        None => TokenTree::Ident(self.ident(v)),
                    },
                    None => TokenTree::Ident(ident),
                },
                other => other,
            })
            .collect()
    }

    pub(super) fn vals(&self, vs: &[Value]) -> Vec<TokenStream> {
        vs.iter().map(|&v| self.val(v)).collect()
    }

    pub(super) fn block_stmts(&self, block: &Block) -> TokenStream {
        let mut stmts: TokenStream = block.ops.iter().map(|op| self.op(op)).collect();
        // The buffers made in this block give their allocations back at its end.
        let krate = self.krate;
        for op in &block.ops {
            if let (OpKind::Buffer(_), [buffer]) = (&op.kind, &op.results[..])
                && self.recycles(*buffer)
                && self.used.contains(buffer)
                && !self.inline.contains_key(buffer)
            {
                let (kept, buffer) = (kept_ident(*buffer), self.ident(*buffer));
                stmts.extend(quote!(#krate::__private::keep(&mut #kept, #buffer);));
            }
        }
        stmts
    }

    /// Whether the buffer `v` is made in the allocation the previous iteration's left.
    fn recycles(&self, v: Value) -> bool {
        self.recycled.contains(&v) && !self.into.contains_key(&v)
    }

    /// The declarations of the stashes, at the top of the function.
    pub(super) fn stashes(&self) -> TokenStream {
        let krate = self.krate;
        // A stash whose pushes a later pass removed (`replay_recurrences`) is not declared.
        let mut used = HashSet::new();
        stash_uses(&self.func.body, &mut used);
        (0..self.func.stashes.len())
            .filter(|i| used.contains(i))
            .map(|i| {
                let ident = stash_ident(i);
                let kind = match self.func.stashes[i] {
                    StashKind::Slot => quote!(Slot),
                    StashKind::Stack => quote!(Stack),
                    StashKind::Bits => quote!(Bits),
                };
                quote!(let mut #ident = #krate::__private::#kind::new();)
            })
            .chain(
                (self.recycled.iter())
                    .filter(|&&v| self.recycles(v))
                    .map(|&v| {
                        let kept = kept_ident(v);
                        quote!(let mut #kept = ::core::option::Option::None;)
                    }),
            )
            .collect()
    }

    /// How a value is bound: `_` if nothing reads it, `mut x` if something writes it.
    pub(super) fn binding(&self, v: Value) -> TokenStream {
        let ident = self.ident(v);
        match (self.used.contains(&v), self.mutable.contains(&v)) {
            (false, _) => quote!(_),
            (true, true) => quote!(mut #ident),
            (true, false) => quote!(#ident),
        }
    }

    /// The pattern binding an op's results: `_` for those nothing reads.
    pub(super) fn pattern(&self, r: Value) -> TokenStream {
        if !self.used.contains(&r) {
            quote!(_)
        } else {
            self.ident(r).to_token_stream()
        }
    }

    /// A region's ops and its yielded value(s) as one expression: `{ ops; (a, b) }`.
    fn region(&self, block: &Block, yields: &[Value]) -> TokenStream {
        let stmts = self.block_stmts(block);
        let yields = self.vals(yields);
        match yields.as_slice() {
            [] => quote!({ #stmts }),
            some => {
                let value = one_or_tuple(some);
                quote!({ #stmts #value })
            }
        }
    }

    /// `start..end` and its adaptors, parenthesized only when adaptors follow; with `wrap`,
    /// `wrap(start..end)` and the adaptors.
    fn range(&self, range: &Range, wrap: Option<TokenStream>) -> TokenStream {
        let (start, end) = (self.val(range.start), self.val(range.end));
        let mut tokens = if range.inclusive {
            quote!(#start..=#end)
        } else {
            quote!(#start..#end)
        };
        if let Some(wrap) = wrap {
            tokens = quote!(#wrap(#tokens));
        } else if !range.adaptors.is_empty() {
            tokens = quote!((#tokens));
        }
        for adaptor in &range.adaptors {
            tokens = match adaptor {
                Adaptor::Rev => quote!(#tokens.rev()),
                Adaptor::StepBy(k) => {
                    let k = self.val(*k);
                    quote!(#tokens.step_by(#k))
                }
            };
        }
        tokens
    }

    /// A loop: the carried values live in `let mut` slots named after the loop's results;
    /// each iteration binds the region's arguments from them and writes its yields back.
    fn loop_op(&self, op: &Op, parts: LoopView, reserve: &[usize]) -> TokenStream {
        let span = op.span;
        let LoopView { init, body, .. } = parts;
        let trip = parts.trip_count(&op.results).map(|t| self.ident(t));
        let (args, yields) = (parts.carried, parts.next);
        let go_on = parts.go_on.map(|v| self.val(v));
        // Containers are carried in place: only the other values need slots.
        let scalars: Vec<usize> = (0..init.len())
            .filter(|&j| self.func.storage(op.results[j]).is_none())
            .collect();
        let slots: Vec<Ident> = scalars.iter().map(|&j| self.ident(op.results[j])).collect();
        let inits: Vec<TokenStream> = scalars.iter().map(|&j| self.val(init[j])).collect();
        let types: Vec<Option<TokenStream>> = scalars
            .iter()
            .map(|&j| {
                self.func
                    .info(op.results[j])
                    .ty
                    .as_ref()
                    .map(|ty| quote!(: #ty))
            })
            .collect();
        let arg_pats: Vec<TokenStream> = scalars.iter().map(|&j| self.pattern(args[j])).collect();
        let yields: Vec<TokenStream> = scalars.iter().map(|&j| self.val(yields[j])).collect();
        let stmts = self.block_stmts(body);
        let count = trip.as_ref().map(|t| quote!(#t += 1;));
        let leave = go_on.map(|g| quote!(if !#g { break; }));
        let iteration = quote! {
            #(let #arg_pats = #slots;)*
            #count
            #stmts
            #(#slots = #yields;)*
            #leave
        };
        let trip_decl = trip.as_ref().map(|t| quote!(let mut #t: usize = 0;));
        let the_loop = match parts.range {
            Some(range) => {
                let index = parts.index.map_or_else(|| quote!(_), |i| self.pattern(i));
                let range = self.range(range, None);
                if reserve.is_empty() {
                    quote_spanned!(span=> for #index in #range { #iteration })
                } else {
                    let it = format_ident!("__ad_it", span = Span::mixed_site());
                    let stashes = reserve.iter().map(|&s| stash_ident(s));
                    quote_spanned! {span=>
                        let #it = #range;
                        #(#stashes.reserve(#it.size_hint().0);)*
                        for #index in #it { #iteration }
                    }
                }
            }
            None => quote_spanned!(span=> loop { #iteration }),
        };
        quote! {
            #(let mut #slots #types = #inits;)*
            #trip_decl
            #the_loop
        }
    }

    /// The reverse of a `#[checkpoint]` loop: the carried values in `let mut` slots (a
    /// container in its working copy, which the regions' versions name), the adjoints in slots
    /// named after the results, and the schedule's actions (`ad_runtime::checkpoint`) run in
    /// turn; a region binds its arguments from the slots and writes its yields back.
    fn checkpointed_op(&self, op: &Op, c: &Checkpointed) -> TokenStream {
        let span = op.span;
        let krate = self.krate;
        let private = quote!(#krate::__private);
        let n = c.init.len();
        let state: Vec<Ident> = (0..n)
            .map(|j| {
                let arg = c.advance.args[1 + j];
                match self.func.storage(arg) == Some(arg) {
                    true => self.ident(arg),
                    false => {
                        format_ident!("__ad_state{}_{}", c.trips.0, j, span = Span::mixed_site())
                    }
                }
            })
            .collect();
        let scalars: Vec<usize> = (0..n)
            .filter(|&j| self.func.storage(c.advance.args[1 + j]).is_none())
            .collect();
        let kept: Vec<Ident> = (0..n)
            .map(|j| format_ident!("__ad_kept{}_{}", c.trips.0, j, span = Span::mixed_site()))
            .collect();
        let inits = self.vals(&c.init);
        let results: Vec<Ident> = op.results.iter().map(|&r| self.ident(r)).collect();
        let adjoints = self.vals(&c.adjoints);
        let slots: Vec<&Ident> = scalars.iter().map(|&j| &state[j]).collect();
        let [action, slot, from, to] = ["action", "slot", "from", "to"]
            .map(|name| format_ident!("__ad_{}", name, span = Span::mixed_site()));
        // `advance` moves the slots out and writes them back; `step` does not write them back,
        // so it takes clones (of a `Copy` value, a copy).
        let bind = |block: &Block, first: usize, clone: bool| -> TokenStream {
            let pats = scalars.iter().map(|&j| self.pattern(block.args[first + j]));
            match clone {
                false => quote!(#(let #pats = #slots;)*),
                true => quote!(#(let #pats = ::core::clone::Clone::clone(&#slots);)*),
            }
        };
        let advance = {
            let t = self.pattern(c.advance.args[0]);
            let bound = bind(&c.advance, 1, false);
            let stmts = self.block_stmts(&c.advance);
            let yields = scalars.iter().map(|&j| self.val(c.advance.yields[j]));
            quote! {
                for #t in #from..#to {
                    #bound
                    #stmts
                    #(#slots = #yields;)*
                }
            }
        };
        let step = {
            let k = self.pattern(c.step.args[0]);
            let bound = bind(&c.step, 1, true);
            let adjoint_pats = (c.step.args[1 + n..].iter()).map(|&a| self.pattern(a));
            let stmts = self.block_stmts(&c.step);
            let yields = self.vals(&c.step.yields);
            (
                k,
                quote! {
                    #bound
                    #(let #adjoint_pats = #results;)*
                    #stmts
                    #(#results = #yields;)*
                },
            )
        };
        let (k, step) = step;
        let trips = self.val(c.trips);
        let snapshots = c.snapshots;
        quote_spanned! {span=>
            #(let mut #state = #inits;)*
            #(let mut #results = #adjoints;)*
            #(let mut #kept = #private::Vec::new();)*
            for #action in #private::Revolve::new(#trips, #snapshots) {
                match #action {
                    #private::Action::Store(#slot) => {
                        #(#private::store(&mut #kept, #slot, &#state);)*
                    }
                    #private::Action::Restore(#slot) => {
                        #(#private::restore(&#kept, #slot, &mut #state);)*
                    }
                    #private::Action::Advance { from: #from, to: #to } => {
                        #advance
                    }
                    #private::Action::Step(#k) => {
                        #step
                    }
                }
            }
        }
    }

    /// In a pullback, a side effect left out: a call or method call made for its effect, or a
    /// macro such as `println!`.
    /// One that changes a local of the function in place is not (what follows reads it).
    fn quieted(&self, op: &Op) -> bool {
        let changes_local = || {
            op.kind
                .operands()
                .iter()
                .any(|v| self.changed_locals.contains(v))
        };
        let statement = op.results.is_empty()
            && matches!(op.kind, OpKind::Method { .. } | OpKind::Call(_))
            && !changes_local();
        self.quiet && (statement || matches!(op.kind, OpKind::Effect { .. }))
    }

    /// Whether this body writes `op` (or an op nested in it) differently from a body with no
    /// caller buffers (`into`) that keeps side effects (not `quiet`): if not, statements
    /// written once for the one serve the other.
    pub(super) fn writes_differently(&self, op: &Op) -> bool {
        let buffer = matches!(op.kind, OpKind::Buffer(_))
            && op
                .results
                .first()
                .is_some_and(|r| self.into.contains_key(r));
        buffer
            || self.quieted(op)
            || op
                .kind
                .blocks()
                .into_iter()
                .any(|b| b.ops.iter().any(|o| self.writes_differently(o)))
    }

    /// The statement of `op`: nothing for a value written at its uses or a side effect a
    /// pullback leaves out, a statement of its own for the ops that are not a `let` of an
    /// expression ([`Self::special_statement`]), else `let <results> = <expr>;`.
    pub(super) fn op(&self, op: &Op) -> TokenStream {
        if op.results.iter().any(|r| self.inline.contains_key(r)) {
            return TokenStream::new();
        }
        if self.quieted(op) {
            return TokenStream::new();
        }
        if let Some(statement) = self.special_statement(op) {
            return statement;
        }
        let mut statement = self.let_statement(op);
        if let Some((sites, function)) = self.checks {
            for r in &op.results {
                if let Some(site) = sites.get(r).filter(|_| self.used.contains(r)) {
                    statement.extend(self.check(op.span, *r, site, function));
                }
            }
        }
        statement
    }

    /// `#[reverse(debug_nonfinite)]`'s check of `value`, made at `site`: `line!()` and
    /// `column!()` spanned at the user's expression give its place.
    fn check(&self, span: Span, value: Value, site: &Site, function: &str) -> TokenStream {
        let krate = self.krate;
        let (what, reverse) = (&site.what, site.reverse);
        let value = self.val(value);
        let from = self.vals(&site.from);
        quote_spanned! {span=>
            #krate::__private::nonfinite::check(
                #value,
                &#krate::__private::nonfinite::Site {
                    what: #what,
                    reverse: #reverse,
                    function: #function,
                    file: ::core::file!(),
                    line: ::core::line!(),
                    column: ::core::column!(),
                },
                || [#(#krate::__private::nonfinite::as_f64(#from)),*],
            );
        }
    }

    /// Step of [`Self::op`]: the statement of an op that is not a `let` of its expression
    /// (regions, in-place writes, the reverse sweep's buffer ops), or `None`.
    fn special_statement(&self, op: &Op) -> Option<TokenStream> {
        match &op.kind {
            OpKind::CallPullback { call, seed, slots } => {
                Some(self.call_pullback(op, call, seed, slots))
            }
            OpKind::Call(call) if op.results.len() > 1 => Some(self.call_writing(op, call)),
            OpKind::For { reserve, .. } => {
                (op.kind.as_loop()).map(|parts| self.loop_op(op, parts, reserve))
            }
            OpKind::Loop { .. } => (op.kind.as_loop()).map(|parts| self.loop_op(op, parts, &[])),
            OpKind::Checkpointed(c) => Some(self.checkpointed_op(op, c)),
            OpKind::If { cond, then, els } => Some(self.if_statement(op, *cond, then, els)),
            OpKind::Store { .. }
            | OpKind::Append { .. }
            | OpKind::Touched { .. }
            | OpKind::Array(ArrayInit::Uninit)
            | OpKind::Assign { .. } => Some(self.container_statement(op)),
            OpKind::BufferReset { .. }
            | OpKind::BufferAdd { .. }
            | OpKind::BufferAddAll { .. }
            | OpKind::AddTo { .. }
            | OpKind::CheckLen { .. }
            | OpKind::Push { .. } => Some(self.adjoint_statement(op)),
            // A placeholder nothing reads would have no type to infer.
            OpKind::Placeholder if !self.used.contains(&op.results[0]) => Some(TokenStream::new()),
            _ => None,
        }
    }

    /// Step of [`Self::special_statement`]: a call that writes containers. They change in
    /// place: only its value is bound (a tuple destructured).
    fn call_writing(&self, op: &Op, call: &Call) -> TokenStream {
        let span = op.span;
        let expr = self.expr(op);
        let returned = &op.results[..call.returned];
        if !returned.iter().any(|r| self.used.contains(r)) {
            return quote_spanned!(span=> #expr;);
        }
        let patterns: Vec<TokenStream> = returned.iter().map(|&r| self.pattern(r)).collect();
        let pattern = one_or_tuple(&patterns);
        quote_spanned!(span=> let #pattern = #expr;)
    }

    /// Step of [`Self::special_statement`]: an `if`, bound to the results that are not
    /// containers. An `if` whose results are dropped yields nothing; containers change in
    /// place.
    fn if_statement(&self, op: &Op, cond: Value, then: &Block, els: &Block) -> TokenStream {
        let span = op.span;
        let cond = self.val(cond);
        let kept: Vec<usize> = (0..op.results.len())
            .filter(|&j| self.func.storage(op.results[j]).is_none())
            .collect();
        let pick = |b: &Block| -> Vec<Value> { kept.iter().map(|&j| b.yields[j]).collect() };
        let (then_yields, else_yields) = (pick(then), pick(els));
        let then_region = self.region(then, &then_yields);
        let else_region = (!els.ops.is_empty() || !else_yields.is_empty()).then(|| {
            let region = self.region(els, &else_yields);
            quote!(else #region)
        });
        let patterns: Vec<TokenStream> =
            kept.iter().map(|&j| self.pattern(op.results[j])).collect();
        let kept: Vec<Value> = kept.iter().map(|&j| op.results[j]).collect();
        let ty = self.annotation(op, &kept);
        let the_if = quote_spanned!(span=> if #cond #then_region #else_region);
        if patterns.is_empty() {
            return the_if;
        }
        let pattern = one_or_tuple(&patterns);
        quote_spanned!(span=> let #pattern #ty = #the_if;)
    }

    /// Step of [`Self::special_statement`]: a write into a container, in place, or the
    /// declaration of an uninitialized one.
    fn container_statement(&self, op: &Op) -> TokenStream {
        let span = op.span;
        match &op.kind {
            OpKind::Store {
                array,
                index,
                value,
            } => {
                let (array, index, value) = (self.val(*array), self.val(*index), self.val(*value));
                quote_spanned!(span=> #array[#index] = #value;)
            }
            OpKind::Append { array, value } => {
                let (array, value) = (self.val(*array), self.val(*value));
                quote_spanned!(span=> #array.push(#value);)
            }
            // The container changed in place already.
            OpKind::Touched { .. } => TokenStream::new(),
            OpKind::Array(ArrayInit::Uninit) => {
                let ident = self.ident(op.results[0]);
                // Initialized (an empty `Vec`, an array of zeros) although every path that
                // reads it assigns it first: rustc cannot see that a path that skips the
                // assignment is one that exits.
                let krate = self.krate;
                let ty = op.ty.as_ref().map(|ty| quote!(: #ty));
                quote_spanned!(span=> let mut #ident #ty = #krate::__private::vacant();)
            }
            // The first assignment of an uninitialized storage initializes it; later ones
            // reuse its allocation.
            OpKind::Assign { array, from, len } => {
                let (array, from) = (self.val(*array), self.val(*from));
                match len {
                    None => quote_spanned!(span=> #array = ::core::clone::Clone::clone(&#from);),
                    Some(_) => {
                        quote_spanned!(span=> ::core::clone::Clone::clone_from(&mut #array, &#from);)
                    }
                }
            }
            // [`Self::special_statement`] forwards only the kinds above.
            _ => TokenStream::new(),
        }
    }

    /// Step of [`Self::special_statement`]: the reverse sweep's statements on adjoint
    /// buffers and the tape (stashes).
    fn adjoint_statement(&self, op: &Op) -> TokenStream {
        let span = op.span;
        let krate = self.krate;
        match &op.kind {
            OpKind::BufferReset { buffer, len } => {
                let (buffer, len) = (self.val(*buffer), self.val(*len));
                quote_spanned!(span=> #krate::__private::reset(&mut #buffer, #len);)
            }
            OpKind::BufferAdd {
                buffer,
                index,
                value,
            } => {
                let (buffer, index, value) =
                    (self.val(*buffer), self.val(*index), self.val(*value));
                // `Float` has no `+=`.
                quote_spanned!(span=> #krate::__private::add_to(&mut #buffer[#index], #value);)
            }
            // Buffers of nalgebra's and ndarray's containers have no `[..]`: with any of
            // them in the function, buffers are added element by element through a trait.
            OpKind::BufferAddAll { buffer, from }
                if self.func.values.iter().any(|v| v.library.is_some()) =>
            {
                let (buffer, from) = (self.val(*buffer), self.val(*from));
                quote_spanned!(span=> #krate::__private::library::add_all(&mut #buffer, &#from);)
            }
            OpKind::BufferAddAll { buffer, from } => {
                let (buffer, from) = (self.val(*buffer), self.val(*from));
                quote_spanned!(span=> #krate::__private::add_all(&mut #buffer[..], &#from[..]);)
            }
            OpKind::AddTo { place, value } => {
                let (place, value) = (self.val(*place), self.val(*value));
                quote_spanned!(span=> #krate::__private::add_to(&mut #place, #value);)
            }
            OpKind::CheckLen { seed, like, name } => {
                let (seed, like) = (self.val(*seed), self.val(*like));
                quote_spanned!(span=> #krate::__private::check_seed(&#seed, #like.len(), #name);)
            }
            OpKind::Push { stash, values } => {
                let stash = stash_ident(*stash);
                let value = one_or_tuple(&self.vals(values));
                quote_spanned!(span=> #stash.push(#value);)
            }
            // [`Self::special_statement`] forwards only the kinds above.
            _ => TokenStream::new(),
        }
    }

    /// Step of [`Self::op`]: `let <results> = <expr>;`, with `_` for results nothing reads,
    /// `mut` for those a method is called on, and the user's type annotation.
    fn let_statement(&self, op: &Op) -> TokenStream {
        let expr = self.expr(op);
        let span = op.span;
        let pattern: Vec<TokenStream> = op
            .results
            .iter()
            .map(|&r| {
                if !self.used.contains(&r) {
                    quote!(_)
                } else if self.mutable.contains(&r) {
                    let ident = self.ident(r);
                    quote!(mut #ident)
                } else {
                    self.ident(r).to_token_stream()
                }
            })
            .collect();
        let allow_mut = if op.results.iter().any(|r| self.mutable.contains(r)) {
            quote!(#[allow(unused_mut, reason = "whether the method called on it needs `mut` is not known")])
        } else {
            quote!()
        };
        let ty = self.annotation(op, &op.results);
        // The expression is moved into the statement rather than interpolated, which would
        // copy every token of it.
        let mut statement = match pattern.as_slice() {
            [] if ty.is_some() => quote_spanned!(span=> let _ #ty =),
            [] => TokenStream::new(),
            [one] => quote_spanned!(span=> #allow_mut let #one #ty =),
            many => {
                let pattern = one_or_tuple(many);
                quote_spanned!(span=> let #pattern #ty =)
            }
        };
        statement.extend(expr);
        statement.extend(quote_spanned!(span=> ;));
        statement
    }

    /// The type annotation of a `let` binding `results` of `op` (all of them or those
    /// kept), from what the user wrote: `: T` or `: (T, _)`.
    fn annotation(&self, op: &Op, results: &[Value]) -> Option<TokenStream> {
        if let Some(ty) = &op.ty
            && results == op.results
        {
            return Some(quote!(: #ty));
        }
        let types: Vec<Option<&TokenStream>> = results
            .iter()
            .map(|&r| self.func.info(r).ty.as_ref())
            .collect();
        if types.iter().all(Option::is_none) {
            return None;
        }
        let types: Vec<TokenStream> = types
            .iter()
            .map(|ty| match ty {
                Some(ty) => quote!(#ty),
                None => quote!(_),
            })
            .collect();
        let ty = one_or_tuple(&types);
        Some(quote!(: #ty))
    }

    /// The expression of `op`, by op family; the ops that are statements of their own
    /// ([`Self::special_statement`]) have none.
    fn expr(&self, op: &Op) -> TokenStream {
        match &op.kind {
            OpKind::Prim(prim, args) => self.prim_expr(op, prim, args),
            OpKind::Lit(_)
            | OpKind::Path(_)
            | OpKind::Cast(..)
            | OpKind::Unary(..)
            | OpKind::Binary(..)
            | OpKind::Logic { .. }
            | OpKind::Field(..)
            | OpKind::Index(..)
            | OpKind::Ref { .. } => self.operator_expr(op),
            OpKind::Call(_)
            | OpKind::Method { .. }
            | OpKind::Effect { .. }
            | OpKind::Original(_)
            | OpKind::Pullback { .. } => self.call_expr(op),
            OpKind::Matches(..) | OpKind::Bind { .. } => self.match_expr(op),
            OpKind::Array(init) => self.array_expr(op, init),
            OpKind::ZeroLike(_)
            | OpKind::Placeholder
            | OpKind::Pop { .. }
            | OpKind::Progression(_)
            | OpKind::At(..)
            | OpKind::Len(_)
            | OpKind::Count(_)
            | OpKind::Shape(_)
            | OpKind::Fresh(_)
            | OpKind::Buffer(_)
            | OpKind::BufferTake { .. }
            | OpKind::BufferPop(_)
            | OpKind::BufferSum(_) => self.adjoint_expr(op),
            // Emitted as statements by `op`.
            OpKind::CallPullback { .. }
            | OpKind::If { .. }
            | OpKind::For { .. }
            | OpKind::Loop { .. }
            | OpKind::Checkpointed(_)
            | OpKind::Push { .. }
            | OpKind::Store { .. }
            | OpKind::Append { .. }
            | OpKind::Assign { .. }
            | OpKind::Touched { .. }
            | OpKind::BufferAdd { .. }
            | OpKind::BufferAddAll { .. }
            | OpKind::BufferReset { .. }
            | OpKind::AddTo { .. }
            | OpKind::CheckLen { .. } => quote!(),
        }
    }

    /// Step of [`Self::expr`]: a primitive (`prims.rs`), written as its row's syntax says:
    /// an operator, a function of the runtime, or a method.
    fn prim_expr(&self, op: &Op, prim: &Prim, args: &[Value]) -> TokenStream {
        let span = op.span;
        let krate = self.krate;
        let args = self.vals(args);
        match (prim.syntax, args.as_slice()) {
            (Syntax::Infix('+'), [a, b]) if self.untyped.contains(&op.kind.operands()[0]) => {
                quote_spanned!(span=> #krate::__private::add(#a, #b))
            }
            // An operand rustc has not typed yet takes the other's type.
            (Syntax::Infix(c), [a, b])
                if self.untyped.contains(&op.kind.operands()[0])
                    && !self.untyped.contains(&op.kind.operands()[1]) =>
            {
                let op = Punct::new(c, Spacing::Alone);
                quote_spanned!(span=> #krate::__private::like(#a, &#b) #op #b)
            }
            (Syntax::Infix(c), [a, b]) => {
                let op = Punct::new(c, Spacing::Alone);
                quote_spanned!(span=> #a #op #b)
            }
            (Syntax::Prefix(c), [a]) => {
                let op = Punct::new(c, Spacing::Alone);
                quote_spanned!(span=> #op #a)
            }
            // The library's own operation, through the runtime (`&` of whatever holds it).
            (Syntax::Library, _) => {
                let name = Ident::new(prim.name, span);
                quote_spanned!(span=> #krate::__private::library::#name(#(&#args),*))
            }
            (Syntax::Function(module), _) => {
                let (module, name) = (Ident::new(module, span), Ident::new(prim.name, span));
                let args = args.iter().zip(prim.operands).map(|(a, kind)| match kind {
                    crate::prims::Operand::Array => quote!(#krate::__private::slice(&#a)),
                    _ => a.clone(),
                });
                let function = quote_spanned!(span=> #krate::#module::#name);
                let function = match op
                    .results
                    .first()
                    .and_then(|r| self.func.written_paths.get(r))
                {
                    // Where the user wrote it: the path must name this function.
                    Some(path) => {
                        quote_spanned!(span=> #krate::__private::same_fn(#function, #path))
                    }
                    None => function,
                };
                quote_spanned!(span=> #function(#(#args),*))
            }
            (_, [recv, rest @ ..]) => {
                let method = Ident::new(prim.name, span);
                // A receiver of a type not inferred yet takes the type of a float argument.
                let operands = op.kind.operands();
                let typed = (1..operands.len()).find(|&j| {
                    prim.operands[j] != crate::prims::Operand::Other
                        && !self.untyped.contains(&operands[j])
                });
                let recv = match typed {
                    Some(j) if self.untyped.contains(&operands[0]) => {
                        let like = &args[j];
                        quote_spanned!(span=> #krate::__private::like(#recv, &#like))
                    }
                    _ => recv.clone(),
                };
                let rest = rest
                    .iter()
                    .zip(&prim.operands[1..])
                    .map(|(a, kind)| match kind {
                        crate::prims::Operand::Borrowed => quote!(&#a),
                        _ => a.clone(),
                    });
                quote_spanned!(span=> #recv.#method(#(#rest),*))
            }
            // The verifier checks operand counts; an empty list cannot reach here.
            (_, []) => quote!(),
        }
    }

    /// Step of [`Self::expr`]: what the user wrote with Rust's own operators and syntax
    /// (literals, paths, casts, operators, `&&`/`||`, field and index reads, references).
    fn operator_expr(&self, op: &Op) -> TokenStream {
        let span = op.span;
        match &op.kind {
            OpKind::Lit(lit) => lit.to_token_stream(),
            OpKind::Path(path) => path.to_token_stream(),
            OpKind::Cast(v, ty, _) => {
                let v = self.val(*v);
                quote_spanned!(span=> #v as #ty)
            }
            OpKind::Unary(op, v) => {
                let v = self.val(*v);
                let op = operator(if *op == UnOp::Not { "!" } else { "*" }, span);
                quote_spanned!(span=> #op #v)
            }
            OpKind::Binary(op, a, b) => {
                let (a, b) = (self.val(*a), self.val(*b));
                let op = operator(op.symbol(), span);
                quote_spanned!(span=> #a #op #b)
            }
            OpKind::Logic { or, lhs, rhs } => {
                let lhs = self.val(*lhs);
                let op = if *or {
                    quote_spanned!(span=> ||)
                } else {
                    quote_spanned!(span=> &&)
                };
                let stmts = self.block_stmts(rhs);
                let value = rhs.yields.first().map(|&v| self.val(v));
                if rhs
                    .ops
                    .iter()
                    .all(|o| o.results.iter().all(|r| self.inline.contains_key(r)))
                {
                    quote_spanned!(span=> #lhs #op #value)
                } else {
                    quote_spanned!(span=> #lhs #op { #stmts #value })
                }
            }
            OpKind::Field(base, member) => {
                let base = self.val(*base);
                quote_spanned!(span=> #base.#member)
            }
            OpKind::Index(base, index) => {
                let (base, index) = (self.val(*base), self.val(*index));
                quote_spanned!(span=> #base[#index])
            }
            OpKind::Ref { mutable, value } => {
                let value = self.val(*value);
                if *mutable {
                    quote_spanned!(span=> &mut #value)
                } else {
                    quote_spanned!(span=> &#value)
                }
            }
            // [`Self::expr`] forwards only the kinds above.
            _ => quote!(),
        }
    }

    /// Step of [`Self::expr`]: calls of functions, methods and macros, the original body
    /// (a given derivative's primal) and the rules' pullbacks.
    fn call_expr(&self, op: &Op) -> TokenStream {
        let span = op.span;
        let krate = self.krate;
        match &op.kind {
            OpKind::Call(call) => {
                // An owned container the callee takes is cloned if the reverse sweep passes it
                // again.
                let args = self.call_args(call, call.passed_again);
                match &call.callee {
                    // `stop_gradient` by the user's path, which must name the runtime's.
                    Callee::Path(path) if call.through == Through::Stopped => {
                        let path = path.tokens();
                        quote_spanned!(span=> #krate::__private::same_fn(#krate::stop_gradient, #path)(#(#args),*))
                    }
                    _ if call.rows_returned => {
                        let call = callee(&call.callee, "", &args, span);
                        quote_spanned!(span=> #krate::__private::flat_owned(#call))
                    }
                    _ => callee(&call.callee, "", &args, span),
                }
            }
            OpKind::Method {
                recv,
                method,
                turbofish,
                args,
            } => {
                let (recv, args) = (self.val(*recv), self.vals(args));
                quote_spanned!(span=> #recv.#method #turbofish (#(#args),*))
            }
            OpKind::Effect { code, uses } => self.fill_holes(code.clone(), uses),
            // Typed by the op's annotation, the return type.
            OpKind::Original(block) => quote_spanned!(span=> (|| #block)()),
            OpKind::Pullback { rule, args } => {
                let dual = args.iter().any(|arg| matches!(arg, Arg::Dual(..)));
                let call = match rule {
                    // A product of library containers: its operands and results as they are.
                    Rule::Runtime(name) if crate::prims::library_product(name).is_some() => {
                        let rule = format_ident!("{}_pullback", name);
                        let args = args.iter().map(|arg| match arg {
                            Arg::Ref(v) => {
                                let v = self.val(*v);
                                quote!(&#v)
                            }
                            // A value the rule does not read: of no type to infer.
                            Arg::EmptyRef => quote!(&()),
                            arg => self.rule_arg(arg),
                        });
                        quote_spanned!(span=> #krate::__private::library::#rule(#(#args),*))
                    }
                    Rule::Runtime(name) => {
                        let rule = Ident::new(name, Span::call_site());
                        let args = args.iter().map(|arg| self.rule_arg(arg));
                        quote_spanned!(span=> #krate::rules::#rule(#(#args),*))
                    }
                    Rule::Tangent(name) => {
                        let rule = format_ident!("{}_jvp", name);
                        let args = args.iter().map(|arg| self.rule_arg(arg));
                        quote_spanned!(span=> #krate::rules::#rule(#(#args),*))
                    }
                    // Spanned at the user's path, where a signature mismatch is reported.
                    Rule::User(path) => {
                        let args = args.iter().map(|arg| self.rule_arg(arg));
                        quote_spanned!(span=> #path(#(#args),*))
                    }
                };
                match dual {
                    // Values, then tangents.
                    true => quote_spanned!(span=> #krate::__private::Split::split(#call)),
                    false => call,
                }
            }
            // [`Self::expr`] forwards only the kinds above.
            _ => quote!(),
        }
    }

    /// Step of [`Self::call_expr`]: an argument of a rule's pullback, passed as the rule
    /// takes it (by value, cloned, or by reference).
    fn rule_arg(&self, arg: &Arg) -> TokenStream {
        match arg {
            Arg::Value(v) => self.val(*v),
            Arg::Clone(v) => {
                let v = self.val(*v);
                quote!(::core::clone::Clone::clone(&#v))
            }
            // `&x` of a local, `x` of a reference parameter: either way the slice.
            Arg::Ref(v) => {
                let (v, krate) = (self.val(*v), self.krate);
                quote!(#krate::__private::slice(&#v))
            }
            Arg::Mut(v) => {
                let v = self.val(*v);
                quote!(&mut #v)
            }
            Arg::EmptyRef => quote!(&[]),
            Arg::EmptyMut => quote!(&mut []),
            Arg::Dual(v, d) => {
                let (v, d, krate) = (self.val(*v), self.val(*d), self.krate);
                quote!(#krate::Dual::new(#v, #d))
            }
        }
    }

    /// Step of [`Self::expr`]: a pattern tested (`matches!`) or destructured (the bindings
    /// of a `let` or an arm), as a `match`. Not `matches!`: its arms cannot carry the lints
    /// a pattern's names may raise.
    fn match_expr(&self, op: &Op) -> TokenStream {
        let span = op.span;
        match &op.kind {
            OpKind::Matches(v, pat) => {
                let (v, code) = (self.val(*v), &pat.code);
                quote_spanned! {span=>
                    match #v {
                        #[allow(unused_variables, unused_mut)]
                        #code => true,
                        #[allow(unreachable_patterns)]
                        _ => false,
                    }
                }
            }
            OpKind::Bind {
                scrutinee,
                pat,
                names,
            } => {
                let (v, code) = (self.val(*scrutinee), &pat.code);
                let names = names
                    .iter()
                    .map(ToTokens::to_token_stream)
                    .collect::<Vec<_>>();
                let names = one_or_tuple(&names);
                quote_spanned! {span=>
                    match #v {
                        #[allow(unused_variables, unused_mut)]
                        #code => #names,
                        #[allow(unreachable_patterns)]
                        _ => ::core::unreachable!(),
                    }
                }
            }
            // [`Self::expr`] forwards only the kinds above.
            _ => quote!(),
        }
    }

    /// Step of [`Self::expr`]: a new array or `Vec` (repeated, listed, copied or empty).
    fn array_expr(&self, op: &Op, init: &ArrayInit) -> TokenStream {
        let span = op.span;
        let krate = self.krate;
        match init {
            ArrayInit::Repeat { value, len, vec } => {
                let value = self.val(*value);
                let len = match len {
                    Len::Value(n) => self.val(*n),
                    Len::Const(e) => e.to_token_stream(),
                };
                if *vec {
                    quote_spanned!(span=> #krate::__private::vec![#value; #len])
                } else {
                    quote_spanned!(span=> [#value; #len])
                }
            }
            ArrayInit::List { values, vec } => {
                let values = self.vals(values);
                if *vec {
                    quote_spanned!(span=> #krate::__private::vec![#(#values),*])
                } else {
                    quote_spanned!(span=> [#(#values),*])
                }
            }
            // `to_owned`: a `Vec` for a slice or a `Vec`, an array for an array.
            ArrayInit::Copy { source, vec } => {
                let v = self.val(*source);
                // A copy of a value that is no container (taken before a `#[checkpoint]`
                // loop): its type may not be inferred yet, so not a method call.
                if op
                    .results
                    .first()
                    .is_some_and(|&r| self.func.storage(r).is_none())
                {
                    return quote_spanned!(span=> ::core::clone::Clone::clone(&#v));
                }
                if *vec {
                    quote_spanned!(span=> #v.to_vec())
                } else {
                    // `ToOwned` is not in a `no_std` crate's prelude.
                    quote_spanned!(span=> {
                        #[allow(unused_imports, reason = "in the prelude of a crate with `std`")]
                        use #krate::__private::ToOwned as _;
                        #v.to_owned()
                    })
                }
            }
            // Declared by `op` without a value.
            ArrayInit::Uninit => quote!(),
            ArrayInit::Empty { capacity: None } => {
                quote_spanned!(span=> #krate::__private::Vec::new())
            }
            ArrayInit::Empty { capacity: Some(n) } => {
                let n = self.val(*n);
                quote_spanned!(span=> #krate::__private::Vec::with_capacity(#n))
            }
        }
    }

    /// Step of [`Self::expr`]: what only the adjoint program has: zeros and placeholders,
    /// the tape (stash pops, loop progressions), container lengths and copies, and the
    /// adjoint buffers of containers.
    fn adjoint_expr(&self, op: &Op) -> TokenStream {
        let span = op.span;
        let krate = self.krate;
        match &op.kind {
            OpKind::ZeroLike(v) => {
                let v = self.val(*v);
                quote_spanned!(span=> #krate::__private::zero_like(#v))
            }
            OpKind::Placeholder => quote_spanned!(span=> #krate::__private::placeholder()),
            OpKind::Pop { stash } => {
                let stash = stash_ident(*stash);
                quote_spanned!(span=> #stash.pop())
            }
            OpKind::Progression(range) => self.range(
                range,
                Some(quote_spanned!(span=> #krate::__private::Progression::of)),
            ),
            OpKind::At(p, k) => {
                let (p, k) = (self.val(*p), self.val(*k));
                quote_spanned!(span=> #p.at(#k))
            }
            OpKind::Len(v) => {
                let v = self.val(*v);
                quote_spanned!(span=> #v.len())
            }
            OpKind::Count(v) => {
                let v = self.val(*v);
                quote_spanned!(span=> #krate::__private::count(&#v))
            }
            OpKind::Shape(v) => {
                let v = self.val(*v);
                quote_spanned!(span=> #krate::__private::shape(&#v))
            }
            OpKind::Fresh(v) => self.val(*v),
            OpKind::Buffer(v) => match op.results.first().and_then(|r| self.into.get(r)) {
                Some(buffer) => buffer.clone(),
                // A parameter's buffer is its gradient, shaped like it; other containers' are
                // flat, rows a callee returned too.
                None if self.func.params.iter().any(|p| p.value == *v) => {
                    let v = self.val(*v);
                    quote_spanned!(span=> #krate::__private::AdjointBuffer::__ad_zeros(&#v))
                }
                None => match op.results.first() {
                    Some(&buffer) if self.recycles(buffer) => {
                        let (kept, v) = (kept_ident(buffer), self.val(*v));
                        quote_spanned!(span=> #krate::__private::zeros_from(&mut #kept, &#v))
                    }
                    _ => {
                        let v = self.val(*v);
                        quote_spanned!(span=> #krate::__private::local_zeros(&#v))
                    }
                },
            },
            OpKind::BufferTake { buffer, index } => {
                let (buffer, index) = (self.val(*buffer), self.val(*index));
                quote_spanned!(span=> #krate::__private::take(&mut #buffer[#index]))
            }
            OpKind::BufferPop(v) => {
                let v = self.val(*v);
                quote_spanned!(span=> #krate::__private::pop(&mut #v))
            }
            OpKind::BufferSum(v) => {
                let v = self.val(*v);
                quote_spanned!(span=> #krate::__private::sum(&#v[..]))
            }
            // [`Self::expr`] forwards only the kinds above.
            _ => quote!(),
        }
    }
}

impl Body<'_> {
    /// A call's arguments as the user wrote them; owned containers cloned if `clone`.
    fn call_args(&self, call: &Call, clone: bool) -> Vec<TokenStream> {
        let method = matches!(call.callee, Callee::Method { .. });
        call.args
            .iter()
            .enumerate()
            .map(|(i, arg)| {
                let v = self.val(arg.value);
                // A method's receiver is written as such: `self.layer.f(..)`.
                if method && i == 0 {
                    return v;
                }
                let krate = self.krate;
                let arrays = Some(Nesting::Arrays);
                match (arg.pass, arg.rows) {
                    // `Vec` rows rebuilt from the flat floats (only lent to read).
                    (Pass::Moved, Some(Nesting::Vecs(offsets))) => {
                        let offsets = self.ident(offsets);
                        quote!(#krate::__private::unragged(&#v, &#offsets))
                    }
                    (_, Some(Nesting::Vecs(offsets))) => {
                        let offsets = self.ident(offsets);
                        quote!(&#krate::__private::unragged(&#v, &#offsets))
                    }
                    // A borrowed container passed on as is (`g(x)` of an `x: &[[F; N]]`).
                    (Pass::Value, Some(_)) => quote!(#krate::__private::nest(#v)),
                    (Pass::Moved, Some(_)) => quote!(#krate::__private::nested(&#v)),
                    (Pass::Ref, Some(_)) => quote!(#krate::__private::nest(&#v)),
                    (Pass::Mut, r) if r == arrays => quote!(#krate::__private::nest_mut(&mut #v)),
                    (Pass::Reborrow, r) if r == arrays => {
                        quote!(#krate::__private::nest_mut(&mut *#v))
                    }
                    (Pass::Value | Pass::Reborrow, _) => v,
                    (Pass::Moved, None) if !clone => v,
                    (Pass::Moved, None) => quote!(::core::clone::Clone::clone(&#v)),
                    (Pass::Ref, None) => quote!(&#v),
                    (Pass::Mut, _) => quote!(&mut #v),
                }
            })
            .collect()
    }

    /// `let (da, _, ..) = g_pullback(args.., seed, slots..);`, each adjoint then checked to be
    /// one (`adjoint(da)`: the callee returns `Skip` for a parameter it does not differentiate,
    /// and the error says so).
    fn call_pullback(&self, op: &Op, call: &Call, seed: &Seed, slots: &[Slot]) -> TokenStream {
        let krate = self.krate;
        let span = op.span;
        let mut args = self.call_args(call, true);
        args.push(match seed {
            Seed::None => quote_spanned!(span=> ::core::option::Option::None),
            Seed::Value(v) => self.val(*v),
            Seed::Tuple(vs) => {
                let vs = self.vals(vs);
                quote!((#(#vs),*))
            }
            Seed::Buffer(b) => {
                let b = self.val(*b);
                quote_spanned!(span=> &mut #b)
            }
        });
        args.extend(slots.iter().zip(&call.args).map(|(slot, arg)| match slot {
            Slot::Skip => quote_spanned!(span=> #krate::__private::Skip),
            // A library container's buffer is its slot as it is (of the callee's
            // `IntoSlot<Buffer>`), having no `[..]`.
            Slot::Buffer(b) if self.func.library(arg.value).is_some() => {
                let b = self.val(*b);
                quote_spanned!(span=> &mut #b)
            }
            Slot::Buffer(b) => {
                let b = self.val(*b);
                quote_spanned!(span=> &mut #b[..])
            }
            Slot::Struct(b) => {
                let b = self.val(*b);
                quote_spanned!(span=> &mut #b)
            }
        }));
        let patterns = op.results.iter().map(|&r| self.pattern(r));
        let checks = op
            .results
            .iter()
            .zip(&call.args)
            .filter(|(r, _)| self.used.contains(r))
            .map(|(&r, arg)| {
                let (r, like) = (self.ident(r), self.val(arg.value));
                let check = located_at(quote!(#krate::__private::adjoint(#like, #r)), span);
                quote_spanned!(span=> let #r = #check;)
            });
        let call = callee(&call.callee, "_pullback", &args, span);
        quote_spanned! {span=>
            let (#(#patterns,)*) = #call;
            #(#checks)*
        }
    }
}

/// `tokens` with their hygiene kept but located at `span`, so that errors in them point there.
fn located_at(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut token| {
            if let proc_macro2::TokenTree::Group(group) = &token {
                let mut inner =
                    proc_macro2::Group::new(group.delimiter(), located_at(group.stream(), span));
                inner.set_span(group.span().located_at(span));
                token = proc_macro2::TokenTree::Group(inner);
            } else {
                token.set_span(token.span().located_at(span));
            }
            token
        })
        .collect()
}

/// A call of `callee` with its name suffixed (`m::g_pullback::<T>(..)` for `m::g::<T>`, and
/// `a.g_pullback(..)` for a method), spanned at the user's callee, so that a callee without
/// a pullback is an error there.
fn callee(callee: &Callee, suffix: &str, args: &[TokenStream], span: Span) -> TokenStream {
    match callee {
        Callee::Path(FnPath {
            prefix,
            name,
            generics,
        }) => {
            let name = format_ident!("{}{}", name, suffix, span = name.span());
            quote_spanned!(span=> #prefix #name #generics (#(#args),*))
        }
        Callee::Method { name, turbofish } => {
            let name = format_ident!("{}{}", name, suffix, span = name.span());
            let (recv, rest) = args
                .split_first()
                .map_or((None, args), |(r, rest)| (Some(r), rest));
            quote_spanned!(span=> #recv.#name #turbofish (#(#rest),*))
        }
    }
}

/// A Rust operator (`<<`, `!`) spanned at the user's expression.
fn operator(symbol: &str, span: Span) -> TokenStream {
    let chars: Vec<char> = symbol.chars().collect();
    chars
        .iter()
        .enumerate()
        .map(|(k, &c)| {
            let spacing = if k + 1 < chars.len() {
                Spacing::Joint
            } else {
                Spacing::Alone
            };
            let mut punct = Punct::new(c, spacing);
            punct.set_span(span);
            TokenTree::Punct(punct)
        })
        .collect()
}

fn stash_ident(i: usize) -> Ident {
    format_ident!("__ad_stash{}", i, span = Span::mixed_site())
}

/// The variable keeping the allocation of the recycled buffer `v` between iterations.
fn kept_ident(v: Value) -> Ident {
    format_ident!("__ad_kept{}", v.index(), span = Span::mixed_site())
}

/// The buffers of local containers (`OpKind::Buffer` of no parameter) made inside a loop body.
fn local_buffers_in_loops(func: &Func, block: &Block, in_loop: bool) -> HashSet<Value> {
    let mut out = HashSet::new();
    for op in &block.ops {
        // Not of a library's container: its shape, not only its length, may change
        // between iterations, which a kept allocation cannot follow.
        if let (OpKind::Buffer(like), [buffer], true) = (&op.kind, &op.results[..], in_loop)
            && !func.params.iter().any(|p| p.value == *like)
            && func.library(*like).is_none()
        {
            out.insert(*buffer);
        }
        let body_loops = matches!(
            op.kind,
            OpKind::For { .. } | OpKind::Loop { .. } | OpKind::Checkpointed(_)
        );
        for inner in op.kind.blocks() {
            out.extend(local_buffers_in_loops(func, inner, in_loop || body_loops));
        }
    }
    out
}

/// `a` alone, or `(a, b, ..)`: a value or pattern of one or several parts.
fn one_or_tuple(parts: &[TokenStream]) -> TokenStream {
    match parts {
        [one] => one.clone(),
        many => quote!((#(#many),*)),
    }
}

/// A float literal without a type suffix (`0.5`, `1e-3`, not `0.5f64` or `2`).
fn is_unsuffixed_float(lit: &proc_macro2::Literal) -> bool {
    let text = lit.to_string();
    let float = !text.starts_with("0x")
        && !text.starts_with("0b")
        && !text.starts_with("0o")
        && (text.contains('.') || text.contains('e') || text.contains('E'));
    float && !text.ends_with("f32") && !text.ends_with("f64")
}

/// The stashes `block` pushes or pops, nested blocks included.
fn stash_uses(block: &Block, out: &mut HashSet<usize>) {
    for op in &block.ops {
        if let OpKind::Push { stash, .. } | OpKind::Pop { stash } = op.kind {
            out.insert(stash);
        }
        for inner in op.kind.blocks() {
            stash_uses(inner, out);
        }
    }
}
