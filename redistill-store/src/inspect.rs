//! One key's value as debugging tools see it: a copy of it for digests, and its layout for
//! DEBUG OBJECT. Both read under the shard's read lock and leave the key's access time
//! alone.

use crate::entry::{Entry, ObjValue};
use crate::error::Result;
use crate::snapshot::{SnapshotEntry, copy_entry};
use crate::store::Store;

/// How a list's nodes are laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListLayout {
    /// Nodes (each a packed run of elements).
    pub nodes: usize,
    /// Elements.
    pub len: usize,
    /// Bytes of the nodes' buffers (compressed nodes count their compressed size).
    pub bytes: usize,
    /// `list-max-listpack-size` the list was made with.
    pub fill: i64,
    /// `list-compress-depth` the list was made with.
    pub compress_depth: u64,
}

/// A value's layout, as DEBUG OBJECT reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ObjectLayout {
    /// OBJECT ENCODING's name for it.
    pub encoding: &'static str,
    /// Milliseconds since the key was last read or written.
    pub idle_ms: u64,
    /// For a list: its nodes.
    pub list: Option<ListLayout>,
}

impl Store {
    /// A copy of one key's value with its expiry, as a snapshot would hold it; `None` for
    /// a missing or expired key.
    ///
    /// # Errors
    ///
    /// [`crate::StoreError::DbIndexOutOfRange`] for a bad `db`.
    ///
    /// # Examples
    ///
    /// ```
    /// use redistill_store::{SnapshotValue, Store};
    ///
    /// let store = Store::new();
    /// store.rpush(0, b"l", &[b"a", b"b"])?;
    /// let entry = store.snapshot_key(0, b"l")?.expect("present");
    /// assert_eq!(entry.value, SnapshotValue::List(vec!["a".into(), "b".into()]));
    /// assert_eq!(store.snapshot_key(0, b"missing")?, None);
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn snapshot_key(&self, db: usize, key: &[u8]) -> Result<Option<SnapshotEntry>> {
        self.peek(db, key, |e, _| e.map(copy_entry))
    }

    /// The layout of one key's value; `None` for a missing or expired key.
    ///
    /// # Errors
    ///
    /// [`crate::StoreError::DbIndexOutOfRange`] for a bad `db`.
    ///
    /// # Examples
    ///
    /// ```
    /// let store = redistill_store::Store::new();
    /// store.rpush(0, b"l", &[b"a", b"b"])?;
    /// let layout = store.object_layout(0, b"l")?.expect("present");
    /// assert_eq!(layout.encoding, "quicklist");
    /// let list = layout.list.expect("a list");
    /// assert_eq!((list.nodes, list.len), (1, 2));
    /// store.set(0, b"n", b"12", Default::default())?;
    /// assert_eq!(store.object_layout(0, b"n")?.map(|l| l.encoding), Some("int"));
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn object_layout(&self, db: usize, key: &[u8]) -> Result<Option<ObjectLayout>> {
        let now = self.now_ms();
        let evictor = self.evictor();
        self.peek(db, key, |e, access| {
            e.map(|e| ObjectLayout {
                encoding: e.encoding(),
                idle_ms: evictor.idle_ms(access, now),
                list: list_layout(e),
            })
        })
    }
}

fn list_layout(e: &Entry) -> Option<ListLayout> {
    let Entry::Obj(obj) = e else {
        return None;
    };
    let ObjValue::List(list) = &obj.value else {
        return None;
    };
    let (nodes, bytes, fill, compress_depth) = list.layout();
    Some(ListLayout {
        nodes,
        len: list.len(),
        bytes,
        fill,
        compress_depth,
    })
}
