//! Loads that nothing writes over later: the element a load read is still in its container
//! when the reverse sweep runs, so the reverse may load it again instead of keeping it.
//!
//! A container written in a loop (a scratch row filled for each component, then read) is not
//! constant, so its loads were kept one per read. Yet a later write often reaches only other
//! elements: `centred[c d + j]` written for `j < d`, then `centred[c d + col]` read, and the
//! next component `c' > c` writes its own row. This analysis proves that from the index
//! expressions: an index `b s + r` with `0 ≤ r < s` (`r` a loop index bounded by `s`, as a
//! row-major index is) names a different element for a different `b` or a different `r`
//! (with the same `s`); and a loop index differs between two iterations of its loop.
//!
//! A load of container `x` is **stable** when, for every write to `x` that may run after it
//! (before the end of the block that made `x`, where `x`'s life as that value ends), the
//! written index differs from the loaded one in every way the write can follow the load: a
//! later iteration of a loop enclosing both, or later in the same iteration. Only containers
//! whose every write is an element store qualify (no push, no whole assignment, no call that
//! may write them). Indices are assumed not to overflow (they panic in debug builds).
//!
//! Before (per point `i`, per component `c`): the reverse of `z += l[..] * centred[c d + col]`
//! pops `centred[c d + col]`, pushed by every inner iteration.
//! After: the reverse loads `centred[c d + col]` again; the point's container is what the
//! reverse reads (kept whole, or live where the point's loop is fused with its reverse).

use std::collections::{HashMap, HashSet};

use crate::ir::{Block, Func, Literal, Op, OpKind, Value, same_arithmetic};

/// The stable loads of `func`: each load's result, and the storage it reads, which the
/// reverse sweep reads in place of the version the load named (every version of a container
/// is one variable in the emitted code).
pub fn loads(func: &Func) -> HashMap<Value, Value> {
    let mut walk = Walk::default();
    walk.block(func, &func.body, &mut Vec::new());
    // Every load is compared with every write to its container: past this many pairs for one
    // container (straight-line code unrolled by hand), its loads are kept, which is always
    // right, and the macro's time stays bounded.
    const PAIRS: usize = 20_000;
    let mut loads_of: HashMap<Value, usize> = HashMap::new();
    for load in &walk.loads {
        if let Some(root) = func.storage(load.array) {
            *loads_of.entry(root).or_default() += 1;
        }
    }
    let mut stable = HashMap::new();
    for load in &walk.loads {
        let Some(root) = func.storage(load.array) else {
            continue;
        };
        let Some(writes) = walk.writes.get(&root) else {
            continue;
        };
        let pairs = loads_of
            .get(&root)
            .map_or(0, |n| n.saturating_mul(writes.len()));
        if pairs > PAIRS {
            continue;
        }
        if walk.unchanged_after(func, load, root, writes) {
            stable.insert(load.result, root);
        }
    }
    stable
}

/// Where an op is: the ops enclosing it, outermost first, and its position in its block.
#[derive(Clone, Default)]
struct Site {
    frames: Vec<Frame>,
    at: usize,
}

/// One enclosing op: its position in its block, which of its blocks holds the site, and, for
/// a loop, its index (`None` for `loop`/`while`, whose iterations no value names).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct Frame {
    at: usize,
    block: usize,
    loop_index: Option<Option<Value>>,
}

struct Load {
    result: Value,
    array: Value,
    index: Value,
    site: Site,
}

/// An element store (`Some(index)`) or another write to a container (`None`).
struct Write {
    index: Option<Value>,
    site: Site,
}

/// A `for` loop's range as the index sees it: `start..end` or `start..=end`.
struct Bounds {
    end: Value,
    inclusive: bool,
}

#[derive(Default)]
struct Walk<'f> {
    defs: HashMap<Value, (Site, &'f Op)>,
    loads: Vec<Load>,
    writes: HashMap<Value, Vec<Write>>,
    ranges: HashMap<Value, Bounds>,
    /// Each `for` loop's index, and the frames down to the loop's body: the loop's identity.
    loops: HashMap<Value, Vec<Frame>>,
    /// The frames of the block whose argument each block argument is (a loop's carried
    /// values change from one iteration to the next, as values made in its body do).
    args: HashMap<Value, Vec<Frame>>,
}

impl<'f> Walk<'f> {
    fn block(&mut self, func: &'f Func, block: &'f Block, frames: &mut Vec<Frame>) {
        for &arg in &block.args {
            self.args.insert(arg, frames.clone());
        }
        for (at, op) in block.ops.iter().enumerate() {
            let site = Site {
                frames: frames.clone(),
                at,
            };
            for &r in &op.results {
                self.defs.insert(r, (site.clone(), op));
            }
            self.record(func, op, &site);
            let index = match &op.kind {
                OpKind::For { range, body, .. } => {
                    let index = body.args.first().copied();
                    if let Some(i) = index {
                        let bounds = Bounds {
                            end: range.end,
                            inclusive: range.inclusive,
                        };
                        self.ranges.insert(i, bounds);
                    }
                    Some(index)
                }
                OpKind::Loop { .. } => Some(None),
                _ => None,
            };
            for (k, inner) in op.kind.blocks().into_iter().enumerate() {
                frames.push(Frame {
                    at,
                    block: k,
                    loop_index: index,
                });
                if let Some(Some(i)) = index {
                    self.loops.insert(i, frames.clone());
                }
                self.block(func, inner, frames);
                frames.pop();
            }
        }
    }

    /// Records `op` if it loads from or writes a container.
    fn record(&mut self, func: &Func, op: &Op, site: &Site) {
        match &op.kind {
            OpKind::Index(array, index) => {
                let scalar = op.results.iter().all(|&r| func.storage(r).is_none());
                if let ([result], true) = (&op.results[..], scalar) {
                    self.loads.push(Load {
                        result: *result,
                        array: *array,
                        index: *index,
                        site: site.clone(),
                    });
                }
            }
            OpKind::Store { array, index, .. } => self.write(func, *array, Some(*index), site),
            OpKind::Append { array, .. }
            | OpKind::Touched { array, .. }
            | OpKind::Assign { array, .. } => self.write(func, *array, None, site),
            OpKind::Call(call) => {
                for arg in call.args.iter().filter(|a| a.pass.writes()) {
                    self.write(func, arg.value, None, site);
                }
            }
            _ => {}
        }
    }

    fn write(&mut self, func: &Func, array: Value, index: Option<Value>, site: &Site) {
        if let Some(root) = func.storage(array) {
            let write = Write {
                index,
                site: site.clone(),
            };
            self.writes.entry(root).or_default().push(write);
        }
    }

    /// Whether no write to `root` that may run after `load`, while `root`'s container lives,
    /// can reach the loaded element.
    fn unchanged_after(&self, func: &Func, load: &Load, root: Value, writes: &[Write]) -> bool {
        // The block that makes the container: a parameter's is the body.
        let scope: &[Frame] = match self.defs.get(&root) {
            Some((site, _)) => &site.frames,
            None if func.params.iter().any(|p| p.value == root) => &[],
            None => return false,
        };
        let inside = |site: &Site| site.frames.starts_with(scope);
        if !inside(&load.site) {
            return false;
        }
        // Loops around the block that makes it run in the same iteration for the load, the
        // writes and the reverse reading it: each of their iterations makes a new container.
        let outer: HashSet<&[Frame]> = (1..=scope.len()).map(|d| &scope[..d]).collect();
        writes.iter().all(|write| {
            let Some(index) = write.index else {
                return false;
            };
            inside(&write.site) && self.never_after(load, index, &write.site, scope, &outer)
        })
    }

    /// Whether every way the write at `site` can run after `load` writes another element.
    fn never_after(
        &self,
        load: &Load,
        index: Value,
        site: &Site,
        scope: &[Frame],
        outer: &HashSet<&[Frame]>,
    ) -> bool {
        let common = (load.site.frames.iter())
            .zip(&site.frames)
            .take_while(|(a, b)| a == b)
            .count();
        // Where the two part: the write before the load in one run of the block they share,
        // or after it, or in another arm of the same `if` (either).
        let position = |s: &Site| s.frames.get(common).map_or(s.at, |f| f.at);
        let (l, w) = (position(&load.site), position(site));
        let after = w >= l;
        // The loops enclosing both, inside the block that made the container.
        let shared: Vec<usize> = (scope.len()..common)
            .filter(|&d| load.site.frames[d].loop_index.is_some())
            .collect();
        let frames = &load.site.frames;
        let mut cases: Vec<Relation> = Vec::new();
        for (k, &d) in shared.iter().enumerate() {
            // A later iteration of loop `d`, the loops outside it in the same one.
            let mut equal = outer.clone();
            equal.extend(shared[..k].iter().map(|&e| &frames[..=e]));
            cases.push(Relation {
                equal: Some(equal),
                differs: Some(&frames[..=d]),
            });
        }
        if after {
            let mut equal = outer.clone();
            equal.extend(shared.iter().map(|&e| &frames[..=e]));
            cases.push(Relation {
                equal: Some(equal),
                differs: None,
            });
        }
        cases
            .iter()
            .all(|relation| self.disjoint(load.index, index, relation))
    }

    /// Whether indices `a` (the load's) and `b` (the write's) differ in two runs related by
    /// `relation`.
    fn disjoint(&self, a: Value, b: Value, relation: &Relation) -> bool {
        if self.differ(a, b, relation) {
            return true;
        }
        self.splits(a).into_iter().any(|(stride, base_a, rest_a)| {
            self.splits(b)
                .into_iter()
                .any(|(stride_b, base_b, rest_b)| {
                    // `b s + r = b' s + r'` with `r, r' < s` needs `r = r'` and `b = b'`.
                    self.same(stride, stride_b, relation)
                        && (self.disjoint(base_a, base_b, relation)
                            || self.differ(rest_a, rest_b, relation))
                })
        })
    }

    /// Whether `a` and `b` are different integers: one loop's index in two of its iterations,
    /// or different literals.
    fn differ(&self, a: Value, b: Value, relation: &Relation) -> bool {
        if a == b {
            let Some(differs) = relation.differs else {
                return false;
            };
            return self.ranges.contains_key(&a) && self.loop_of(a).is_some_and(|l| l == differs);
        }
        match (self.int(a), self.int(b)) {
            (Some(x), Some(y)) => x != y,
            _ => false,
        }
    }

    /// Whether `a` and `b` are the same integer in both runs: one value computed outside the
    /// loops the runs differ in, or the same arithmetic of such values.
    fn same(&self, a: Value, b: Value, relation: &Relation) -> bool {
        let def = |v| self.defs.get(&v).map(|(_, op)| *op);
        same_arithmetic(a, b, &def, &|v| self.invariant(v, relation))
    }

    /// Whether `v` has one value in both runs: made outside every loop they may differ in.
    fn invariant(&self, v: Value, relation: &Relation) -> bool {
        if self.ranges.contains_key(&v) {
            return self.loop_of(v).is_some_and(|l| relation.same_iteration(l));
        }
        let frames = match (self.defs.get(&v), self.args.get(&v)) {
            (Some((site, _)), _) => &site.frames,
            (None, Some(frames)) => frames,
            // A parameter.
            (None, None) => return true,
        };
        (0..frames.len())
            .filter(|&d| frames[d].loop_index.is_some())
            .all(|d| relation.same_iteration(&frames[..=d]))
    }

    /// The loop whose index `v` is: the frames down to the loop's body.
    fn loop_of(&self, v: Value) -> Option<&[Frame]> {
        self.loops.get(&v).map(Vec::as_slice)
    }

    /// Each way to read `v` as `base · stride + rest` with `0 ≤ rest < stride`: `rest` a loop
    /// index bounded by `stride` (the row-major index of a flat matrix).
    fn splits(&self, v: Value) -> Vec<(Value, Value, Value)> {
        let mut out = Vec::new();
        let Some((_, op)) = self.defs.get(&v) else {
            return out;
        };
        let OpKind::Prim(prim, args) = &op.kind else {
            return out;
        };
        let [x, y] = args[..] else {
            return out;
        };
        if prim.name != "add" {
            return out;
        }
        for (product, rest) in [(x, y), (y, x)] {
            let Some((_, mul)) = self.defs.get(&product) else {
                continue;
            };
            let OpKind::Prim(p, factors) = &mul.kind else {
                continue;
            };
            let [f, g] = factors[..] else {
                continue;
            };
            if p.name != "mul" {
                continue;
            }
            for (base, stride) in [(f, g), (g, f)] {
                if self.below(rest, stride) {
                    out.push((stride, base, rest));
                }
            }
        }
        out
    }

    /// Whether `v` is a loop index below `bound` in every iteration: its range ends at
    /// `bound` (exclusive), or at a loop index below it.
    fn below(&self, v: Value, bound: Value) -> bool {
        let Some(range) = self.ranges.get(&v) else {
            return false;
        };
        (!range.inclusive && self.same(range.end, bound, &Relation::ONE_RUN))
            || self.below(range.end, bound)
    }

    /// The value of an integer literal (`3`, `1_000`, `4usize`).
    fn int(&self, v: Value) -> Option<u128> {
        let OpKind::Lit(Literal::Token(lit)) = &self.defs.get(&v)?.1.kind else {
            return None;
        };
        let text = lit.to_string().replace('_', "");
        let end = text
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len());
        let (number, suffix) = text.split_at(end);
        let integer_suffix = matches!(
            suffix,
            "" | "u8"
                | "u16"
                | "u32"
                | "u64"
                | "u128"
                | "usize"
                | "i8"
                | "i16"
                | "i32"
                | "i64"
                | "i128"
                | "isize"
        );
        integer_suffix.then(|| number.parse().ok()).flatten()
    }
}

/// How two runs of a load and a write relate: the loops that are in the same iteration in
/// both, and the loop that is in a later iteration for the write (none: the same iteration
/// of every loop they share).
struct Relation<'s> {
    /// `None`: one run, where every value is itself.
    equal: Option<HashSet<&'s [Frame]>>,
    differs: Option<&'s [Frame]>,
}

impl Relation<'_> {
    /// Two values at hand in one run: a range's end and a stride.
    const ONE_RUN: Relation<'static> = Relation {
        equal: None,
        differs: None,
    };

    /// Whether the loop `frames` is in the same iteration in both runs.
    fn same_iteration(&self, frames: &[Frame]) -> bool {
        self.equal
            .as_ref()
            .is_none_or(|equal| equal.contains(frames))
    }
}

#[cfg(test)]
mod tests {
    use super::loads;
    use crate::tests::harness::accepted;

    /// How many loads of `source`'s body are stable.
    fn stable(source: &str) -> usize {
        let pipeline = accepted(source);
        let primal = pipeline.primal.as_ref().expect("the body is lowered");
        loads(primal).len()
    }

    /// A function of a slice `a` whose body is `body` and which returns `s`.
    fn body(body: &str) -> String {
        format!("fn f(a: &[f64], t: f64) -> f64 {{ let w = a.len(); let mut s = 0.0; {body} s }}")
    }

    #[test]
    fn an_element_written_then_read_in_one_iteration_is_stable() {
        let source =
            body("let mut h = vec![0.0; w]; for i in 0..w { h[i] = a[i] * t; s += h[i].sin(); }");
        assert_eq!(stable(&source), 1);
    }

    #[test]
    fn an_element_the_next_iteration_writes_is_not() {
        let source = body(
            "let mut h = vec![0.0; w + 1]; for i in 0..w { s += h[i + 1].sin(); h[i] = a[i] * t; h[i + 1] = t; }",
        );
        assert_eq!(stable(&source), 0);
    }

    #[test]
    fn rows_read_before_later_rows_are_written_are_stable() {
        // Row `r` filled, then read in a lower triangle (`j < c < w`, `j` from `0..c`).
        let source = body(
            "let mut m = vec![0.0; 3 * w];
             for r in 0..3 {
                 for j in 0..w { m[r * w + j] = a[j] * t; }
                 for c in 0..w { for j in 0..c { s += (m[w * r + j] * m[c + r * w]).sin(); } }
             }",
        );
        assert_eq!(stable(&source), 2);
        // Inclusive to `c`: `j ≤ c < w`.
        let inclusive = source.replace("0..c", "0..=c");
        assert_eq!(stable(&inclusive), 2);
    }

    #[test]
    fn rows_written_over_later_are_not() {
        for later in [
            // The same row, after the reads.
            "for j in 0..w { m[r * w + j] *= 2.0; }",
            // The next row, at an index the analysis does not split (`(r + 1) * w + j`).
            "if r < 2 { for j in 0..w { m[(r + 1) * w + j] = t; } }",
            // The row, whole, again in a `while` loop that runs twice.
            "let mut k = 0; while k < 2 { for j in 0..w { m[r * w + j] = t; } k += 1; }",
        ] {
            let source = body(&format!(
                "let mut m = vec![0.0; 4 * w];
                 for r in 0..3 {{
                     for j in 0..w {{ m[r * w + j] = a[j] * t; }}
                     for j in 0..w {{ s += m[r * w + j].sin(); }}
                     {later}
                 }}"
            ));
            assert_eq!(stable(&source), 0, "{later}");
        }
    }

    #[test]
    fn a_width_the_loop_changes_is_not_a_stride() {
        let source = body(
            "let mut m = vec![0.0; 3 * w + 3]; let mut v = w + 2;
             for r in 0..3 {
                 for j in 0..v { m[r * v + j] = a[j % w] * t; }
                 for j in 0..v { s += m[r * v + j].sin(); }
                 v -= 1;
             }",
        );
        assert_eq!(stable(&source), 0);
    }

    #[test]
    fn a_container_pushed_onto_has_no_stable_loads() {
        let source = body(
            "let mut h = vec![0.0; w]; for i in 0..w { h[i] = a[i] * t; s += h[i].sin(); h.push(t); }",
        );
        assert_eq!(stable(&source), 0);
    }
}
