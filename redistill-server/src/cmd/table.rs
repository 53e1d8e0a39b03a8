//! The command table's row type: what the server knows about a command before it runs it.
//!
//! Each row holds Redis's metadata for the command (arity, flags, ACL categories, tips,
//! key specifications) and its handler; a container command (CLIENT, CONFIG, ...) holds
//! its subcommands as rows of their own. Dispatch, arity errors, `COMMAND` and its
//! subcommands, INFO commandstats, MULTI, CLIENT PAUSE and the memory check all read these
//! rows; nothing decides by a command's name.

use bitflags::bitflags;

use super::{CommandResult, Ctx};

/// A command implementation; `args[0]` is the command name as sent (for a subcommand,
/// `args[1]` is the subcommand's).
pub(crate) type Handler = fn(&mut Ctx<'_>, &[&[u8]]) -> CommandResult;

/// A function that finds the keys of a command whose key positions depend on its
/// arguments beyond what key specifications describe (Redis's `getkeys_proc`).
pub(crate) type KeysFn = fn(&[&[u8]]) -> Vec<KeyRef>;

/// A function that gives the flags of a `variable_flags` key specification for one
/// request (SET's key is read only with GET).
pub(crate) type KeyFlagsFn = fn(&[&[u8]], KeyFlags) -> KeyFlags;

bitflags! {
    /// Redis's command flags, in the order `COMMAND INFO` lists them.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub(crate) struct Flags: u32 {
        const WRITE = 1 << 0;
        const READONLY = 1 << 1;
        /// May grow memory: refused while memory stays over `maxmemory`.
        const DENYOOM = 1 << 2;
        const MODULE = 1 << 3;
        const ADMIN = 1 << 4;
        const PUBSUB = 1 << 5;
        const NOSCRIPT = 1 << 6;
        const BLOCKING = 1 << 7;
        const LOADING = 1 << 8;
        const STALE = 1 << 9;
        const SKIP_MONITOR = 1 << 10;
        const SKIP_SLOWLOG = 1 << 11;
        const ASKING = 1 << 12;
        /// O(1) and cheap: timed by sampling.
        const FAST = 1 << 13;
        /// Runs before AUTH.
        const NO_AUTH = 1 << 14;
        const MAY_REPLICATE = 1 << 15;
        const NO_MANDATORY_KEYS = 1 << 16;
        const NO_ASYNC_LOADING = 1 << 17;
        /// Refused inside MULTI.
        const NO_MULTI = 1 << 18;
        /// Derived, never written in a row: some keys are found by more than key ranges.
        const MOVABLEKEYS = 1 << 19;
        const ALLOW_BUSY = 1 << 20;
        /// Not a flag `COMMAND INFO` shows: one of the commands a RESP2 client may send
        /// while subscribed ((P|S)(UN)SUBSCRIBE, PING, QUIT, RESET).
        const SUBSCRIBED_OK = 1 << 26;
        /// Not a flag `COMMAND INFO` shows: refused unless `enable-debug-command` allows
        /// the client (Redis's `CMD_PROTECTED`).
        const PROTECTED = 1 << 28;
        /// Not a Redis flag: runs without its worker's gate and takes the gates it needs
        /// itself (DEBUG, whose SLEEP and RELOAD stop the whole server; SORT, whose BY and
        /// GET read keys known only as it sorts, so it runs alone).
        const OWN_GATES = 1 << 27;
        /// Not a Redis flag: runs at once inside MULTI rather than being queued (MULTI,
        /// EXEC, DISCARD, WATCH, QUIT, RESET).
        const TRANSACTION_CONTROL = 1 << 29;
        /// Not a Redis flag: runs the transaction's queue (EXEC), taking every worker's
        /// gate itself; CLIENT PAUSE WRITE holds it when the queue writes.
        const RUNS_QUEUE = 1 << 30;
        /// Not a Redis flag: updates access times even for a CLIENT NO-TOUCH client
        /// (TOUCH).
        const TOUCHES_ANYWAY = 1 << 31;
    }
}

bitflags! {
    /// Redis's ACL categories, in the order `COMMAND INFO` lists them.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub(crate) struct Acl: u32 {
        const KEYSPACE = 1 << 0;
        const READ = 1 << 1;
        const WRITE = 1 << 2;
        const SET = 1 << 3;
        const SORTEDSET = 1 << 4;
        const LIST = 1 << 5;
        const HASH = 1 << 6;
        const STRING = 1 << 7;
        const BITMAP = 1 << 8;
        const HYPERLOGLOG = 1 << 9;
        const GEO = 1 << 10;
        const STREAM = 1 << 11;
        const PUBSUB = 1 << 12;
        const ADMIN = 1 << 13;
        const FAST = 1 << 14;
        const SLOW = 1 << 15;
        const BLOCKING = 1 << 16;
        const DANGEROUS = 1 << 17;
        const CONNECTION = 1 << 18;
        const TRANSACTION = 1 << 19;
        const SCRIPTING = 1 << 20;
    }
}

bitflags! {
    /// Flags of a key specification, in the order Redis lists them.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub(crate) struct KeyFlags: u32 {
        /// Read-only access to the value.
        const RO = 1 << 0;
        /// Read and write access.
        const RW = 1 << 1;
        /// Overwrites the value.
        const OW = 1 << 2;
        /// Deletes the key.
        const RM = 1 << 3;
        /// Returns, copies or uses user data from the value.
        const ACCESS = 1 << 4;
        const UPDATE = 1 << 5;
        const INSERT = 1 << 6;
        const DELETE = 1 << 7;
        const NOT_KEY = 1 << 8;
        const INCOMPLETE = 1 << 9;
        const VARIABLE_FLAGS = 1 << 10;
    }
}

/// Builds a flag set in a constant: `flags!(WRITE | DENYOOM)`, or `flags!()` for none.
macro_rules! flags {
    ($($flag:ident)|*) => {
        $crate::cmd::table::Flags::from_bits_retain(0 $(| $crate::cmd::table::Flags::$flag.bits())*)
    };
}

/// Builds an ACL category set in a constant: `acl!(KEYSPACE | DANGEROUS)`.
macro_rules! acl {
    ($($cat:ident)|*) => {
        $crate::cmd::table::Acl::from_bits_retain(0 $(| $crate::cmd::table::Acl::$cat.bits())*)
    };
}

/// Builds key-specification flags in a constant: `key_flags!(RW | ACCESS | UPDATE)`.
macro_rules! key_flags {
    ($($flag:ident)|*) => {
        $crate::cmd::table::KeyFlags::from_bits_retain(
            0 $(| $crate::cmd::table::KeyFlags::$flag.bits())*
        )
    };
}

pub(crate) use {acl, flags, key_flags};

/// Where the search for a key specification's keys begins.
#[derive(Clone, Copy, Debug)]
pub(crate) enum BeginSearch {
    /// At this argument index.
    Index(i32),
    /// After this keyword, searched from argument `start_from` (negative: from the end,
    /// backwards).
    Keyword {
        keyword: &'static str,
        start_from: i32,
    },
    /// Only the command's [`KeysFn`] knows.
    Unknown,
}

/// How a key specification's keys follow its beginning.
#[derive(Clone, Copy, Debug)]
pub(crate) enum FindKeys {
    /// The last key's index relative to the first (negative: from the end), every
    /// `step`-th argument; with `limit` above 1, only that fraction of the rest.
    Range {
        last_key: i32,
        step: i32,
        limit: i32,
    },
    /// The argument at `key_num_index` (relative to the beginning) counts the keys, which
    /// start `first_key` after the beginning, every `step`-th argument.
    Keynum {
        key_num_index: i32,
        first_key: i32,
        step: i32,
    },
    /// Only the command's [`KeysFn`] knows.
    Unknown,
}

/// One of Redis 7's key specifications: where a group of keys is and how it is used.
#[derive(Clone, Copy, Debug)]
pub(crate) struct KeySpec {
    pub flags: KeyFlags,
    pub begin: BeginSearch,
    pub find: FindKeys,
    pub notes: Option<&'static str>,
}

impl KeySpec {
    /// One key at argument `index`.
    pub const fn at(index: i32, flags: KeyFlags) -> KeySpec {
        KeySpec::range(index, 0, 1, flags)
    }

    /// Keys from argument `index` to `last_key` past it (negative: from the end), every
    /// `step`-th.
    pub const fn range(index: i32, last_key: i32, step: i32, flags: KeyFlags) -> KeySpec {
        KeySpec {
            flags,
            begin: BeginSearch::Index(index),
            find: FindKeys::Range {
                last_key,
                step,
                limit: 0,
            },
            notes: None,
        }
    }

    /// Any specification, spelled out.
    pub const fn new(flags: KeyFlags, begin: BeginSearch, find: FindKeys) -> KeySpec {
        KeySpec {
            flags,
            begin,
            find,
            notes: None,
        }
    }

    /// The same specification with Redis's explanatory note.
    pub const fn notes(self, notes: &'static str) -> KeySpec {
        KeySpec {
            notes: Some(notes),
            ..self
        }
    }

    /// Whether this is a plain index-and-range specification.
    fn is_range(&self) -> bool {
        matches!(
            (self.begin, self.find),
            (BeginSearch::Index(_), FindKeys::Range { .. })
        )
    }
}

/// A key found in a request: its argument index and its specification's flags.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct KeyRef {
    pub index: usize,
    pub flags: KeyFlags,
}

/// One row of the command table.
pub(crate) struct Command {
    /// Lower-case name; for a subcommand, its own part (`list` of `client|list`).
    pub name: &'static str,
    /// For a subcommand, the lower-case name of its container.
    pub container: Option<&'static str>,
    /// Redis's arity: exact count if positive, minimum count if negative (names included).
    pub arity: i32,
    pub flags: Flags,
    /// The ACL categories written in the row; those Redis derives from the flags are added
    /// by [`Command::acl_categories`].
    pub acl: Acl,
    /// Redis's command tips (`nondeterministic_output`, `request_policy:all_shards`, ...).
    pub tips: &'static [&'static str],
    pub key_specs: &'static [KeySpec],
    /// Finds the keys where the key specifications cannot (Redis's `getkeys_proc`).
    pub keys_fn: Option<KeysFn>,
    /// The flags of this request's keys, for key specifications flagged
    /// `VARIABLE_FLAGS`.
    pub key_flags_fn: Option<KeyFlagsFn>,
    pub handler: Handler,
    pub subcommands: &'static [Command],
    /// Where a request names the member it looks up in its key's collection (SADD's,
    /// HGET's field, ZADD's last argument), for prefetching a pipeline's members.
    pub member: Option<MemberArg>,
}

/// The argument of a request that names a member of its key's collection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MemberArg {
    /// The argument at this index (the name is index 0).
    At(usize),
    /// The last argument (ZADD's, after its options and score).
    Last,
}

impl MemberArg {
    /// The member's index in a request of `len` arguments, if it has one there.
    pub(crate) fn index(self, len: usize) -> Option<usize> {
        let i = match self {
            MemberArg::At(i) => i,
            MemberArg::Last => len.checked_sub(1)?,
        };
        (i >= 2 && i < len).then_some(i)
    }
}

impl Command {
    /// A row with no flags, categories or keys; the builder methods below add them.
    pub const fn new(name: &'static str, arity: i32, handler: Handler) -> Command {
        Command {
            name,
            container: None,
            arity,
            flags: Flags::empty(),
            acl: Acl::empty(),
            tips: &[],
            key_specs: &[],
            keys_fn: None,
            key_flags_fn: None,
            handler,
            subcommands: &[],
            member: None,
        }
    }

    /// A subcommand row of `container`.
    pub const fn sub(
        container: &'static str,
        name: &'static str,
        arity: i32,
        handler: Handler,
    ) -> Command {
        Command {
            container: Some(container),
            ..Command::new(name, arity, handler)
        }
    }

    pub const fn flags(self, flags: Flags) -> Command {
        Command { flags, ..self }
    }

    pub const fn acl(self, acl: Acl) -> Command {
        Command { acl, ..self }
    }

    pub const fn tips(self, tips: &'static [&'static str]) -> Command {
        Command { tips, ..self }
    }

    pub const fn keys(self, key_specs: &'static [KeySpec]) -> Command {
        Command { key_specs, ..self }
    }

    pub const fn keys_fn(self, keys_fn: KeysFn) -> Command {
        Command {
            keys_fn: Some(keys_fn),
            ..self
        }
    }

    pub const fn key_flags_fn(self, key_flags_fn: KeyFlagsFn) -> Command {
        Command {
            key_flags_fn: Some(key_flags_fn),
            ..self
        }
    }

    /// Marks where this command's requests name a member of their key's collection, for
    /// prefetching a pipeline's members.
    pub const fn member(self, member: MemberArg) -> Command {
        Command {
            member: Some(member),
            ..self
        }
    }

    pub const fn subcommands(self, subcommands: &'static [Command]) -> Command {
        Command {
            subcommands,
            ..self
        }
    }

    pub fn has(&self, flag: Flags) -> bool {
        self.flags.contains(flag)
    }

    /// The name `COMMAND` and error messages use: `get`, or `client|list`.
    pub fn full_name(&self) -> std::borrow::Cow<'static, str> {
        match self.container {
            Some(container) => format!("{container}|{}", self.name).into(),
            None => self.name.into(),
        }
    }

    /// Every ACL category of the command: the row's, plus those Redis derives from flags.
    pub fn acl_categories(&self) -> Acl {
        let mut acl = self.acl;
        let derived = [
            (Flags::WRITE, Acl::WRITE),
            (Flags::ADMIN, Acl::ADMIN.union(Acl::DANGEROUS)),
            (Flags::PUBSUB, Acl::PUBSUB),
            (Flags::FAST, Acl::FAST),
            (Flags::BLOCKING, Acl::BLOCKING),
        ];
        for (flag, categories) in derived {
            if self.flags.contains(flag) {
                acl |= categories;
            }
        }
        // Scripting commands are not @read even when read-only.
        if self.has(Flags::READONLY) && !acl.contains(Acl::SCRIPTING) {
            acl |= Acl::READ;
        }
        if !acl.contains(Acl::FAST) {
            acl |= Acl::SLOW;
        }
        acl
    }

    /// The flags `COMMAND INFO` lists: the row's Redis flags plus `movablekeys` where key
    /// positions are not plain ranges.
    pub fn info_flags(&self) -> Flags {
        // Redis 7.0 lists no `may_replicate` (PUBLISH's, held by CLIENT PAUSE WRITE).
        let mut flags = self.flags
            - Flags::MAY_REPLICATE
            - Flags::SUBSCRIBED_OK
            - Flags::PROTECTED
            - Flags::OWN_GATES
            - Flags::TRANSACTION_CONTROL
            - Flags::RUNS_QUEUE
            - Flags::TOUCHES_ANYWAY;
        if self.movable_keys() {
            flags |= Flags::MOVABLEKEYS;
        }
        flags
    }

    /// Redis's `movablekeys`: a keys function, a specification that is not an index and a
    /// range, a range that is not plain and consecutive, or an incomplete one.
    fn movable_keys(&self) -> bool {
        if self.keys_fn.is_some() {
            return true;
        }
        if let [only] = self.key_specs
            && only.is_range()
        {
            return only.flags.contains(KeyFlags::INCOMPLETE);
        }
        let mut previous_last = 0;
        for spec in self.key_specs {
            let (BeginSearch::Index(index), FindKeys::Range { last_key, step, .. }) =
                (spec.begin, spec.find)
            else {
                return true;
            };
            if step != 1 || (previous_last != 0 && previous_last != index - 1) {
                return true;
            }
            if spec.flags.contains(KeyFlags::INCOMPLETE) {
                return true;
            }
            previous_last = if last_key >= 0 {
                index + last_key
            } else {
                last_key
            };
        }
        false
    }

    /// The legacy (first key, last key, step) triple of `COMMAND INFO`, derived from the
    /// key specifications as Redis derives it.
    pub fn legacy_key_range(&self) -> (i32, i32, i32) {
        let as_range = |spec: &KeySpec| match (spec.begin, spec.find) {
            (BeginSearch::Index(index), FindKeys::Range { last_key, step, .. }) => {
                Some((index, last_key, step))
            }
            _ => None,
        };
        if let [only] = self.key_specs
            && let Some((index, last_key, step)) = as_range(only)
        {
            let last = if last_key >= 0 {
                index + last_key
            } else {
                last_key
            };
            return (index, last, step);
        }
        let (mut first, mut last, mut previous_last) = (i32::MAX, 0i32, 0i32);
        for spec in self.key_specs {
            let Some((index, last_key, step)) = as_range(spec) else {
                continue;
            };
            if step != 1 || (previous_last != 0 && previous_last != index - 1) {
                continue;
            }
            first = first.min(index);
            let absolute = if last_key >= 0 {
                last_key + index
            } else {
                last_key
            };
            // Redis compares as unsigned, so a count from the end wins.
            if (absolute as u32) > (last as u32) {
                last = absolute;
            }
            previous_last = last;
        }
        if first == i32::MAX {
            return (0, 0, 0);
        }
        (first, last, 1)
    }

    /// The keys of a request whose arity was checked, in argument order per
    /// specification, as `COMMAND GETKEYS` and WATCH-like consumers see them.
    pub fn key_refs(&self, args: &[&[u8]]) -> Vec<KeyRef> {
        if let Some(keys_fn) = self.keys_fn {
            return keys_fn(args);
        }
        let mut keys = Vec::new();
        for spec in self.key_specs {
            spec_keys(spec, args, &mut keys);
        }
        if let Some(key_flags_fn) = self.key_flags_fn {
            for key in &mut keys {
                if key.flags.contains(KeyFlags::VARIABLE_FLAGS) {
                    key.flags = key_flags_fn(args, key.flags);
                }
            }
        }
        keys
    }

    /// Whether the command has key arguments at all (`COMMAND GETKEYS` refuses those
    /// without).
    pub fn has_keys(&self) -> bool {
        self.keys_fn.is_some()
            || self
                .key_specs
                .iter()
                .any(|spec| !spec.flags.contains(KeyFlags::NOT_KEY))
    }
}

/// Appends the keys one specification finds in `args`, as Redis's
/// `getKeysUsingKeySpecs` does; a specification that does not fit the arguments finds
/// none.
fn spec_keys(spec: &KeySpec, args: &[&[u8]], keys: &mut Vec<KeyRef>) {
    let argc = i64::try_from(args.len()).unwrap_or(i64::MAX);
    let first = match spec.begin {
        BeginSearch::Index(index) => i64::from(index),
        BeginSearch::Keyword {
            keyword,
            start_from,
        } => {
            let start = i64::from(start_from);
            let (from, to, step) = if start >= 0 {
                (start, argc - 1, 1)
            } else {
                (argc + start, 1, -1)
            };
            let mut i = from;
            let mut found = None;
            while (step > 0 && i <= to) || (step < 0 && i >= to) {
                let Some(arg) = usize::try_from(i).ok().and_then(|i| args.get(i)) else {
                    break;
                };
                if arg.eq_ignore_ascii_case(keyword.as_bytes()) {
                    found = Some(i + 1);
                    break;
                }
                i += step;
            }
            match found {
                Some(i) => i,
                None => return,
            }
        }
        BeginSearch::Unknown => return,
    };
    let (last, step) = match spec.find {
        FindKeys::Range {
            last_key,
            step,
            limit,
        } => {
            let last = if last_key >= 0 {
                first + i64::from(last_key)
            } else if limit <= 1 {
                argc + i64::from(last_key)
            } else {
                first + (argc - first) / i64::from(limit) + i64::from(last_key)
            };
            (last, i64::from(step))
        }
        FindKeys::Keynum {
            key_num_index,
            first_key,
            step,
        } => {
            let Some(count) = usize::try_from(first + i64::from(key_num_index))
                .ok()
                .and_then(|i| args.get(i))
                .and_then(|a| super::args::parse_i64(a))
                .filter(|n| *n >= 0)
            else {
                return;
            };
            // As Redis: the count spans arguments, whatever the step, and keys counted
            // past the last argument make the specification find none.
            let start = first + i64::from(first_key);
            let last = start + count - 1;
            if last >= argc {
                return;
            }
            return push_range(spec, start, last, i64::from(step), argc, keys);
        }
        FindKeys::Unknown => return,
    };
    push_range(spec, first, last, step, argc, keys);
}

fn push_range(spec: &KeySpec, first: i64, last: i64, step: i64, argc: i64, keys: &mut Vec<KeyRef>) {
    let mut i = first;
    while i <= last && i < argc && step > 0 {
        if let Ok(index) = usize::try_from(i) {
            keys.push(KeyRef {
                index,
                flags: spec.flags,
            });
        }
        i += step;
    }
}

/// Lower-case names of a flag set, as `COMMAND INFO` writes them.
pub(crate) fn flag_names(flags: Flags) -> impl Iterator<Item = String> {
    flags
        .iter_names()
        .map(|(name, _)| name.to_ascii_lowercase())
}

/// `@`-prefixed lower-case names of ACL categories.
pub(crate) fn acl_names(acl: Acl) -> impl Iterator<Item = String> {
    acl.iter_names()
        .map(|(name, _)| format!("@{}", name.to_ascii_lowercase()))
}

/// Key-specification flag names as Redis writes them: `RO`, `RW`, `OW`, `RM` in capitals,
/// the rest in lower case.
pub(crate) fn key_flag_names(flags: KeyFlags) -> impl Iterator<Item = String> {
    flags.iter_names().map(|(name, _)| {
        if name.len() == 2 {
            name.to_owned()
        } else {
            name.to_ascii_lowercase()
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn noop(_: &mut Ctx<'_>, _: &[&[u8]]) -> CommandResult {
        Ok(())
    }

    fn positions(command: &Command, args: &[&[u8]]) -> Vec<usize> {
        command.key_refs(args).iter().map(|k| k.index).collect()
    }

    #[test]
    fn counted_keys_follow_their_count() {
        // ZUNIONSTORE dst numkeys key [key ...] ...
        static SPECS: &[KeySpec] = &[
            KeySpec::at(1, key_flags!(OW | UPDATE)),
            KeySpec::new(
                key_flags!(RO | ACCESS),
                BeginSearch::Index(2),
                FindKeys::Keynum {
                    key_num_index: 0,
                    first_key: 1,
                    step: 1,
                },
            ),
        ];
        let zunionstore = Command::new("zunionstore", -4, noop).keys(SPECS);
        assert_eq!(
            positions(
                &zunionstore,
                &[b"zunionstore", b"d", b"2", b"a", b"b", b"WEIGHTS"]
            ),
            [1, 3, 4]
        );
        assert_eq!(
            positions(&zunionstore, &[b"zunionstore", b"d", b"x", b"a"]),
            [1]
        );
        // More keys counted than there are arguments: the count finds none.
        assert_eq!(
            positions(&zunionstore, &[b"zunionstore", b"d", b"3", b"a", b"b"]),
            [1]
        );
        assert!(zunionstore.info_flags().contains(Flags::MOVABLEKEYS));
        assert_eq!(zunionstore.legacy_key_range(), (1, 1, 1));
    }

    #[test]
    fn keyword_searches_from_the_end_backwards() {
        // XREAD ... STREAMS key [key ...] id [id ...]: half of what follows STREAMS.
        static SPECS: &[KeySpec] = &[KeySpec::new(
            key_flags!(RO | ACCESS),
            BeginSearch::Keyword {
                keyword: "STREAMS",
                start_from: 1,
            },
            FindKeys::Range {
                last_key: -1,
                step: 1,
                limit: 2,
            },
        )];
        let xread = Command::new("xread", -4, noop).keys(SPECS);
        assert_eq!(
            positions(
                &xread,
                &[b"xread", b"COUNT", b"1", b"streams", b"a", b"b", b"0", b"0"]
            ),
            [4, 5]
        );
        assert!(positions(&xread, &[b"xread", b"COUNT", b"1"]).is_empty());
        static UNKNOWN: &[KeySpec] = &[KeySpec::new(
            key_flags!(RO),
            BeginSearch::Unknown,
            FindKeys::Unknown,
        )];
        let unknown = Command::new("sort", -2, noop).keys(UNKNOWN).keys_fn(|_| {
            vec![KeyRef {
                index: 1,
                flags: KeyFlags::RO,
            }]
        });
        assert_eq!(positions(&unknown, &[b"sort", b"k"]), [1]);
        assert!(unknown.info_flags().contains(Flags::MOVABLEKEYS));
    }

    #[test]
    fn categories_derive_from_flags_as_in_redis() {
        let admin = Command::new("x", 1, noop).flags(flags!(ADMIN | NOSCRIPT));
        assert_eq!(admin.acl_categories(), acl!(ADMIN | SLOW | DANGEROUS));
        let read = Command::new("x", 1, noop)
            .flags(flags!(READONLY | FAST))
            .acl(acl!(STRING));
        assert_eq!(read.acl_categories(), acl!(READ | STRING | FAST));
        let script = Command::new("x", 1, noop)
            .flags(flags!(READONLY))
            .acl(acl!(SCRIPTING));
        assert_eq!(script.acl_categories(), acl!(SLOW | SCRIPTING));
        let exec = Command::new("x", 1, noop).flags(flags!(RUNS_QUEUE | STALE));
        assert_eq!(exec.info_flags(), flags!(STALE));
    }
}
