//! A linearizability checker: Wing & Gong's search with Lowe's memoization, the "WGL"
//! algorithm of Knossos and Porcupine.
//!
//! A history is linearizable when every operation can be given one instant between its
//! invocation and its return such that, run one after another in that order, a sequential
//! [`Model`] answers each operation exactly as the server did. The search walks the
//! history's calls and returns in time order, tries to linearize the next call that is
//! still open, and backtracks when it reaches a return whose call it could not place.
//! Every (set of linearized operations, model state) pair it has seen is remembered, so a
//! partial linearization already known to lead nowhere is never explored twice.
//!
//! An operation that never returned (its connection failed or timed out) may have taken
//! effect at any time after its invocation, or not at all: its return is placed after
//! every other event and its output is not compared.
//!
//! Written here rather than taken from a crate: `stateright`'s `LinearizabilityTester`
//! orders operations by which ones each thread had seen complete rather than by
//! timestamps, searches interleavings without memoizing the dead ends, and answers only
//! whether a serialization exists; `todc-utils` implements WGL but also answers only yes
//! or no, and has not been released since 2023. A violation here names the operations
//! around the point where the search got stuck, which is what makes a failing run
//! actionable.

use std::collections::HashSet;
use std::fmt::{self, Debug, Write as _};
use std::hash::Hash;
use std::time::Duration;

/// A sequential specification: what each operation does to the state and answers.
pub trait Model {
    /// The object's state; hashed to memoize the search.
    type State: Clone + Eq + Hash + Debug;
    /// An operation's arguments.
    type Input: Debug;
    /// An operation's answer.
    type Output: PartialEq + Debug;

    /// The state before the first operation.
    fn init(&self) -> Self::State;

    /// Runs `input` on `state`: the state after it, and what it answers.
    fn step(&self, state: &Self::State, input: &Self::Input) -> (Self::State, Self::Output);
}

/// One operation of a history, as a client saw it.
#[derive(Debug, Clone)]
pub struct Operation<I, O> {
    /// Which client issued it; a client's operations do not overlap.
    pub client: usize,
    pub input: I,
    /// When it was sent, from an origin common to the whole history.
    pub invoked: Duration,
    /// When its answer arrived and what it was; `None` if it never came.
    pub returned: Option<(Duration, O)>,
}

/// No linearization exists. The fields describe the longest partial linearization the
/// search found, and [`fmt::Display`] renders them with the history around it.
#[derive(Debug)]
pub struct Violation {
    /// Index (in the history) of the operation that had to take effect next, before its
    /// return, but could not.
    pub stuck: usize,
    /// The longest partial linearization, in order, as history indices.
    pub linearized: Vec<usize>,
    /// The rendered report.
    report: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.report)
    }
}

/// Checks that `history` is linearizable with respect to `model`.
pub fn check<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
) -> Result<(), Violation> {
    let mut events = Events::new(history);
    let mut linearized = BitSet::new(history.len());
    let mut seen: HashSet<(BitSet, M::State)> = HashSet::new();
    // The calls linearized so far, each with the state before it, to backtrack.
    let mut placed: Vec<(usize, M::State)> = Vec::new();
    let mut state = model.init();
    let mut deepest = Deepest::<M::State>::default();
    let mut cursor = events.first();
    while let Some(event) = cursor {
        let op = events.op(event);
        if events.is_call(event) {
            let (next, output) = model.step(&state, &history[op].input);
            let answers_alike = history[op]
                .returned
                .as_ref()
                .is_none_or(|(_, got)| *got == output);
            if answers_alike {
                linearized.insert(op);
                if seen.insert((linearized.clone(), next.clone())) {
                    placed.push((event, std::mem::replace(&mut state, next)));
                    events.lift(event);
                    cursor = events.first();
                    continue;
                }
                linearized.remove(op);
            }
            cursor = events.next(event);
        } else {
            // `op` returned, yet no order of what is open lets it take effect: undo the
            // most recent choice and try the call after it instead.
            if deepest.stuck.is_none() || placed.len() > deepest.linearized.len() {
                deepest = Deepest {
                    linearized: placed.iter().map(|&(e, _)| events.op(e)).collect(),
                    state: Some(state.clone()),
                    stuck: Some(op),
                };
            }
            let Some((call, before)) = placed.pop() else {
                return Err(deepest.into_violation(model, history));
            };
            linearized.remove(events.op(call));
            state = before;
            events.unlift(call);
            cursor = events.next(call);
        }
    }
    Ok(())
}

/// The history's calls and returns in time order, as a doubly linked list from which a
/// linearized operation's two events are lifted out and put back when backtracking.
struct Events {
    /// Per event: the operation, and whether it is the call (else the return).
    kind: Vec<(usize, bool)>,
    /// Links; index 0 is the list's head sentinel, events are 1-based.
    prev: Vec<usize>,
    next: Vec<usize>,
    /// Per operation: its return event.
    return_of: Vec<usize>,
}

/// No event: the end of the list.
const NONE: usize = usize::MAX;

impl Events {
    fn new<I, O>(history: &[Operation<I, O>]) -> Self {
        // Calls sort before returns at the same instant: two operations that touch at a
        // point count as concurrent, which can only allow more orders, never fewer.
        let mut order: Vec<(Duration, bool, usize)> = Vec::with_capacity(2 * history.len());
        for (i, op) in history.iter().enumerate() {
            order.push((op.invoked, false, i));
            let returned = op.returned.as_ref().map_or(Duration::MAX, |(at, _)| *at);
            order.push((returned, true, i));
        }
        order.sort();
        let n = order.len();
        let mut kind = vec![(NONE, false)];
        let mut return_of = vec![NONE; history.len()];
        for (position, &(_, is_return, op)) in order.iter().enumerate() {
            kind.push((op, !is_return));
            if is_return {
                return_of[op] = position + 1;
            }
        }
        Events {
            kind,
            prev: (0..=n).map(|i| i.wrapping_sub(1)).collect(),
            next: (0..=n).map(|i| if i == n { NONE } else { i + 1 }).collect(),
            return_of,
        }
    }

    fn first(&self) -> Option<usize> {
        self.next(0)
    }

    fn next(&self, event: usize) -> Option<usize> {
        Some(self.next[event]).filter(|&e| e != NONE)
    }

    fn op(&self, event: usize) -> usize {
        self.kind[event].0
    }

    fn is_call(&self, event: usize) -> bool {
        self.kind[event].1
    }

    /// Takes a call and its return out of the list.
    fn lift(&mut self, call: usize) {
        let ret = self.return_of[self.op(call)];
        self.unlink(call);
        self.unlink(ret);
    }

    /// Puts back what [`Events::lift`] took out, in the reverse order.
    fn unlift(&mut self, call: usize) {
        let ret = self.return_of[self.op(call)];
        self.relink(ret);
        self.relink(call);
    }

    fn unlink(&mut self, e: usize) {
        let (p, n) = (self.prev[e], self.next[e]);
        self.next[p] = n;
        if n != NONE {
            self.prev[n] = p;
        }
    }

    fn relink(&mut self, e: usize) {
        let (p, n) = (self.prev[e], self.next[e]);
        self.next[p] = e;
        if n != NONE {
            self.prev[n] = e;
        }
    }
}

/// Which operations are linearized, as a key of the memo.
#[derive(Clone, PartialEq, Eq, Hash)]
struct BitSet(Vec<u64>);

impl BitSet {
    fn new(len: usize) -> Self {
        BitSet(vec![0; len.div_ceil(64)])
    }

    fn insert(&mut self, i: usize) {
        self.0[i / 64] |= 1 << (i % 64);
    }

    fn remove(&mut self, i: usize) {
        self.0[i / 64] &= !(1 << (i % 64));
    }
}

/// The longest partial linearization seen, and the return that ended it.
struct Deepest<S> {
    linearized: Vec<usize>,
    state: Option<S>,
    stuck: Option<usize>,
}

impl<S> Default for Deepest<S> {
    fn default() -> Self {
        Deepest {
            linearized: Vec::new(),
            state: None,
            stuck: None,
        }
    }
}

/// How many operations the report shows that completed before the stuck one began, per
/// client: the writes a read may have been expected to see.
const CONTEXT_PER_CLIENT: usize = 2;

impl<S: Debug> Deepest<S> {
    fn into_violation<M: Model<State = S>>(
        self,
        model: &M,
        history: &[Operation<M::Input, M::Output>],
    ) -> Violation {
        let stuck = self.stuck.expect("a failed search stopped at a return");
        let state = self.state.expect("recorded with the return");
        let window = window(history, stuck);
        let position = |op: usize| self.linearized.iter().position(|&l| l == op);
        let mut report = String::new();
        let blocked = &history[stuck];
        let (_, answer) = blocked
            .returned
            .as_ref()
            .expect("the search stopped at its return");
        let _ = writeln!(
            report,
            "not linearizable: at most {} of {} operations linearize. After them the \
             state is {state:?}, and no order of the operations still open lets #{stuck} \
             (client {}: {:?} -> {answer:?}) take effect before it returned.",
            self.linearized.len(),
            history.len(),
            blocked.client,
            blocked.input,
        );
        let _ = writeln!(
            report,
            "From that state, each operation still open would answer (got, if it differs):"
        );
        for &op in window
            .iter()
            .filter(|&&op| position(op).is_none() && overlaps(&history[op], &history[stuck]))
        {
            let (_, would) = model.step(&state, &history[op].input);
            let got = match &history[op].returned {
                Some((_, got)) if *got == would => String::new(),
                Some((_, got)) => format!("   (got {got:?})"),
                None => "   (no answer)".to_owned(),
            };
            let _ = writeln!(report, "  #{op} {:?} -> {would:?}{got}", history[op].input);
        }
        let _ = writeln!(
            report,
            "History around it (µs from the origin; [n] = n-th in the longest linearization):"
        );
        let mut events: Vec<(Duration, bool, usize)> = Vec::new();
        for &op in &window {
            events.push((history[op].invoked, false, op));
            if let Some((at, _)) = &history[op].returned {
                events.push((*at, true, op));
            }
        }
        events.sort();
        for (at, is_return, op) in events {
            let o = &history[op];
            let placed = position(op).map_or_else(|| "    ".to_owned(), |p| format!("[{p}]"));
            let marker = if op == stuck { " <- stuck" } else { "" };
            let what = if is_return {
                let (_, got) = o.returned.as_ref().expect("a return event has an answer");
                format!("return -> {got:?}")
            } else {
                format!("call   {:?}", o.input)
            };
            let _ = writeln!(
                report,
                "  {:>10.3}  client {}  #{op:<4} {placed:>6}  {what}{marker}",
                at.as_secs_f64() * 1e6,
                o.client,
            );
        }
        for &op in window.iter().filter(|&&op| history[op].returned.is_none()) {
            let _ = writeln!(
                report,
                "  (#{op} of client {} never returned)",
                history[op].client
            );
        }
        Violation {
            stuck,
            linearized: self.linearized,
            report,
        }
    }
}

/// Whether two operations' intervals intersect (an open end reaches forever).
fn overlaps<I, O>(a: &Operation<I, O>, b: &Operation<I, O>) -> bool {
    let end = |o: &Operation<I, O>| o.returned.as_ref().map_or(Duration::MAX, |(at, _)| *at);
    a.invoked <= end(b) && b.invoked <= end(a)
}

/// The operations worth showing around `stuck`: those concurrent with it, and each
/// client's last few that completed before it began.
fn window<I, O>(history: &[Operation<I, O>], stuck: usize) -> Vec<usize> {
    let target = &history[stuck];
    let mut shown: Vec<usize> = (0..history.len())
        .filter(|&i| overlaps(&history[i], target))
        .collect();
    let clients: HashSet<usize> = history.iter().map(|o| o.client).collect();
    for client in clients {
        let mut before: Vec<usize> = (0..history.len())
            .filter(|&i| history[i].client == client && !overlaps(&history[i], target))
            .filter(|&i| history[i].invoked < target.invoked)
            .collect();
        before.sort_by_key(|&i| history[i].invoked);
        shown.extend(before.iter().rev().take(CONTEXT_PER_CLIENT));
    }
    shown.sort_by_key(|&i| history[i].invoked);
    shown
}
