//! The list value: a deque of elements with an O(1) byte total for memory accounting.

use std::collections::VecDeque;

use bytes::Bytes;

use crate::memory::alloc_size;

/// Which end of a list (Redis's LEFT/RIGHT, head/tail).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListEnd {
    /// The head (LPUSH, LPOP, LEFT).
    Left,
    /// The tail (RPUSH, RPOP, RIGHT).
    Right,
}

/// A list's elements.
#[derive(Clone, Default)]
pub(crate) struct ListObj {
    items: VecDeque<Box<[u8]>>,
    /// Sum of the elements' allocations, so the footprint is O(1).
    elem_bytes: usize,
}

impl ListObj {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    pub(crate) fn len(&self) -> usize {
        self.items.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Heap bytes the list holds (allocator rounding included).
    pub(crate) fn heap_bytes(&self) -> usize {
        alloc_size(self.items.capacity() * std::mem::size_of::<Box<[u8]>>()) + self.elem_bytes
    }

    fn boxed(&mut self, v: &[u8]) -> Box<[u8]> {
        self.elem_bytes += alloc_size(v.len());
        v.into()
    }

    fn unbox(&mut self, b: Box<[u8]>) -> Bytes {
        self.elem_bytes -= alloc_size(b.len());
        Bytes::from(Vec::from(b))
    }

    pub(crate) fn push(&mut self, end: ListEnd, v: &[u8]) {
        let b = self.boxed(v);
        match end {
            ListEnd::Left => self.items.push_front(b),
            ListEnd::Right => self.items.push_back(b),
        }
    }

    pub(crate) fn pop(&mut self, end: ListEnd) -> Option<Bytes> {
        let b = match end {
            ListEnd::Left => self.items.pop_front(),
            ListEnd::Right => self.items.pop_back(),
        }?;
        let out = self.unbox(b);
        self.shrink();
        Some(out)
    }

    /// Gives back spare room once the deque is at most a quarter full.
    fn shrink(&mut self) {
        if self.items.capacity() > 16 && self.items.len() * 4 <= self.items.capacity() {
            self.items.shrink_to(self.items.len() * 2);
        }
    }

    pub(crate) fn get(&self, i: usize) -> Option<Bytes> {
        self.items.get(i).map(|b| Bytes::copy_from_slice(b))
    }

    /// Replaces element `i`; false if there is none.
    pub(crate) fn set(&mut self, i: usize, v: &[u8]) -> bool {
        if i >= self.items.len() {
            return false;
        }
        let b = self.boxed(v);
        let old = std::mem::replace(&mut self.items[i], b);
        self.elem_bytes -= alloc_size(old.len());
        true
    }

    /// Inserts `v` before element `i` (`i == len` appends).
    pub(crate) fn insert(&mut self, i: usize, v: &[u8]) {
        let b = self.boxed(v);
        self.items.insert(i, b);
    }

    /// Copies of the elements `start..end`.
    pub(crate) fn range(&self, start: usize, end: usize) -> Vec<Bytes> {
        let end = end.min(self.items.len());
        if start >= end {
            return Vec::new();
        }
        self.items
            .range(start..end)
            .map(|b| Bytes::copy_from_slice(b))
            .collect()
    }

    /// Hands `f` each element with its index, from the head (or from the tail), until `f`
    /// returns false.
    pub(crate) fn scan(&self, from_tail: bool, mut f: impl FnMut(usize, &[u8]) -> bool) {
        if from_tail {
            for (i, b) in self.items.iter().enumerate().rev() {
                if !f(i, b) {
                    return;
                }
            }
        } else {
            for (i, b) in self.items.iter().enumerate() {
                if !f(i, b) {
                    return;
                }
            }
        }
    }

    /// Keeps only the elements `start..end`.
    pub(crate) fn trim(&mut self, start: usize, end: usize) {
        let end = end.min(self.items.len());
        let start = start.min(end);
        for b in self.items.drain(end..) {
            self.elem_bytes -= alloc_size(b.len());
        }
        for b in self.items.drain(..start) {
            self.elem_bytes -= alloc_size(b.len());
        }
        self.shrink();
    }

    /// Removes up to `limit` (0: all) elements equal to `v`, searching from the head (or
    /// from the tail); how many it removed.
    pub(crate) fn remove_matches(&mut self, v: &[u8], limit: usize, from_tail: bool) -> usize {
        let mut doomed = Vec::new();
        self.scan(from_tail, |i, e| {
            if e == v {
                doomed.push(i);
            }
            limit == 0 || doomed.len() < limit
        });
        doomed.sort_unstable();
        for &i in doomed.iter().rev() {
            if let Some(b) = self.items.remove(i) {
                self.elem_bytes -= alloc_size(b.len());
            }
        }
        self.shrink();
        doomed.len()
    }

    /// Copies of every element, head first.
    pub(crate) fn to_vec(&self) -> Vec<Bytes> {
        self.range(0, self.len())
    }

    /// Checks the byte total against the elements.
    pub(crate) fn check(&self) -> Result<(), String> {
        let bytes: usize = self.items.iter().map(|b| alloc_size(b.len())).sum();
        if bytes != self.elem_bytes {
            return Err(format!(
                "list element bytes counted {}, recomputed {bytes}",
                self.elem_bytes
            ));
        }
        Ok(())
    }
}
