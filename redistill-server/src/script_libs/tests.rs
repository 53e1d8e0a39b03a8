//! Unit and property tests for the script libraries: round trips through each library in
//! a Lua state with [`register`](super::register) applied. Byte-for-byte agreement with
//! Redis is checked by the differential test `tests/script_libs.rs`.

use mlua::{Function, Lua, Table, Value};
use proptest::prelude::*;

use super::{format_g, register, str_to_number, strtod};

fn state() -> Lua {
    let lua = Lua::new();
    register(&lua).expect("register");
    lua
}

/// Lua helpers: deep equality of plain values and tables (NaN equal to itself).
const HELPERS: &str = "
local function eq(a, b)
  if type(a) ~= type(b) then return false end
  if type(a) == 'number' and a ~= a then return b ~= b end
  if type(a) ~= 'table' then return a == b end
  for k, v in pairs(a) do if not eq(v, b[k]) then return false end end
  for k in pairs(b) do if a[k] == nil then return false end end
  return true
end
return eq";

fn eq_fn(lua: &Lua) -> Function {
    lua.load(HELPERS).eval().expect("helpers")
}

/// A value tree that both JSON and MessagePack carry.
#[derive(Debug, Clone)]
enum Tree {
    Num(f64),
    Str(Vec<u8>),
    Bool(bool),
    List(Vec<Tree>),
    Map(Vec<(String, Tree)>),
}

fn tree(numbers: BoxedStrategy<f64>) -> impl Strategy<Value = Tree> {
    let leaf = prop_oneof![
        numbers.prop_map(Tree::Num),
        proptest::collection::vec(any::<u8>(), 0..40).prop_map(Tree::Str),
        any::<bool>().prop_map(Tree::Bool),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Tree::List),
            proptest::collection::vec(("[a-z]{1,6}", inner), 0..6).prop_map(Tree::Map),
        ]
    })
}

fn to_lua(lua: &Lua, t: &Tree) -> Value {
    match t {
        Tree::Num(x) => Value::Number(*x),
        Tree::Str(s) => Value::String(lua.create_string(s).expect("string")),
        Tree::Bool(b) => Value::Boolean(*b),
        Tree::List(items) => {
            let table = lua.create_table().expect("table");
            for (i, item) in items.iter().enumerate() {
                table.raw_set(i + 1, to_lua(lua, item)).expect("set");
            }
            Value::Table(table)
        }
        Tree::Map(pairs) => {
            let table = lua.create_table().expect("table");
            for (k, v) in pairs {
                table.raw_set(k.as_str(), to_lua(lua, v)).expect("set");
            }
            Value::Table(table)
        }
    }
}

fn lib(lua: &Lua, name: &str, function: &str) -> Function {
    let t: Table = lua.globals().get(name).expect("library");
    t.get(function).expect("function")
}

/// Numbers `%.14g` writes exactly: integers below 10^14 and short binary fractions.
fn json_numbers() -> BoxedStrategy<f64> {
    prop_oneof![
        (-99_999_999_999_999i64..99_999_999_999_999).prop_map(|i| i as f64),
        (-4000i32..4000).prop_map(|i| f64::from(i) / 8.0),
    ]
    .boxed()
}

fn any_finite() -> BoxedStrategy<f64> {
    prop_oneof![
        any::<f64>().prop_filter("finite", |x| x.is_finite()),
        any::<i64>().prop_map(|i| i as f64),
        any::<i32>().prop_map(f64::from),
        any::<f32>()
            .prop_filter("finite", |x| x.is_finite())
            .prop_map(f64::from),
    ]
    .boxed()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn cjson_decode_inverts_encode(t in tree(json_numbers())) {
        let lua = state();
        let value = to_lua(&lua, &t);
        let json: mlua::String = lib(&lua, "cjson", "encode").call(value.clone()).expect("encode");
        let back: Value = lib(&lua, "cjson", "decode").call(json).expect("decode");
        let same: bool = eq_fn(&lua).call((value, back)).expect("eq");
        prop_assert!(same);
    }

    #[test]
    fn cmsgpack_unpack_inverts_pack(t in tree(any_finite()), u in tree(any_finite())) {
        let lua = state();
        let (a, b) = (to_lua(&lua, &t), to_lua(&lua, &u));
        let packed: mlua::String =
            lib(&lua, "cmsgpack", "pack").call((a.clone(), b.clone())).expect("pack");
        let (x, y): (Value, Value) = lib(&lua, "cmsgpack", "unpack").call(packed).expect("unpack");
        let eq = eq_fn(&lua);
        prop_assert!(eq.call::<bool>((a, x)).expect("eq"));
        prop_assert!(eq.call::<bool>((b, y)).expect("eq"));
    }

    #[test]
    fn struct_unpack_inverts_pack(
        big in any::<bool>(),
        align in prop_oneof![Just(""), Just("!1"), Just("!2"), Just("!4"), Just("!8"), Just("!")],
        items in proptest::collection::vec(struct_item(), 0..10),
    ) {
        let lua = state();
        let mut fmt = String::from(if big { ">" } else { "<" });
        fmt.push_str(align);
        let args = lua.create_table().expect("table");
        for (i, (option, value)) in items.iter().enumerate() {
            fmt.push_str(option);
            fmt.push(' ');
            args.raw_set(i + 1, to_lua(&lua, value)).expect("set");
        }
        let check: Function = lua
            .load("local fmt, args, n, eq = ...
                   local packed = struct.pack(fmt, unpack(args, 1, n))
                   local out = {struct.unpack(fmt, packed)}
                   if out[n + 1] ~= #packed + 1 then return false end
                   out[n + 1] = nil
                   if not fmt:find('s') and struct.size(fmt) ~= #packed then return false end
                   return eq(args, out)")
            .into_function()
            .expect("chunk");
        let ok: bool = check.call((fmt, args, items.len(), eq_fn(&lua))).expect("round trip");
        prop_assert!(ok);
    }
}

/// A struct format option and a value it carries exactly.
fn struct_item() -> impl Strategy<Value = (String, Tree)> {
    prop_oneof![
        any::<i8>().prop_map(|v| ("b".to_owned(), Tree::Num(f64::from(v)))),
        any::<u8>().prop_map(|v| ("B".to_owned(), Tree::Num(f64::from(v)))),
        any::<i16>().prop_map(|v| ("h".to_owned(), Tree::Num(f64::from(v)))),
        any::<u16>().prop_map(|v| ("H".to_owned(), Tree::Num(f64::from(v)))),
        any::<i32>().prop_map(|v| ("l".to_owned(), Tree::Num(f64::from(v)))),
        any::<u32>().prop_map(|v| ("L".to_owned(), Tree::Num(f64::from(v)))),
        any::<i32>().prop_map(|v| ("i".to_owned(), Tree::Num(f64::from(v)))),
        (1usize..=8, any::<i32>()).prop_map(|(n, v)| {
            let bits = 8 * n as u32;
            let v = if bits >= 32 {
                i64::from(v)
            } else {
                i64::from(v) >> (32 - bits)
            };
            (format!("i{n}"), Tree::Num(v as f64))
        }),
        (1usize..=8, any::<u32>()).prop_map(|(n, v)| {
            let bits = 8 * n as u32;
            let v = if bits >= 32 {
                u64::from(v)
            } else {
                u64::from(v) >> (32 - bits)
            };
            (format!("I{n}"), Tree::Num(v as f64))
        }),
        any::<f32>()
            .prop_filter("not NaN", |f| !f.is_nan())
            .prop_map(|v| ("f".to_owned(), Tree::Num(f64::from(v)))),
        any::<f64>()
            .prop_filter("not NaN", |f| !f.is_nan())
            .prop_map(|v| ("d".to_owned(), Tree::Num(v))),
        "[a-z]{0,8}".prop_map(|s| ("s".to_owned(), Tree::Str(s.into_bytes()))),
        "[a-z]{1,8}".prop_map(|s| (format!("c{}", s.len()), Tree::Str(s.into_bytes()))),
    ]
}

#[test]
fn format_g_matches_printf() {
    let cases: &[(f64, usize, &str)] = &[
        (0.0, 14, "0"),
        (-0.0, 14, "-0"),
        (1.0, 14, "1"),
        (0.1, 14, "0.1"),
        (1.0 / 3.0, 14, "0.33333333333333"),
        (1e15, 14, "1e+15"),
        (1e14, 14, "1e+14"),
        (123_456_789_012_345.0, 14, "1.2345678901234e+14"),
        (0.0001, 14, "0.0001"),
        (0.00001, 14, "1e-05"),
        (5e-324, 14, "4.9406564584125e-324"),
        (2.5, 1, "2"),
        (3.5, 1, "4"),
        (99.5, 2, "1e+02"),
        (f64::INFINITY, 14, "inf"),
        (f64::NEG_INFINITY, 14, "-inf"),
    ];
    for (x, p, want) in cases {
        assert_eq!(format_g(*x, *p), *want, "{x} at precision {p}");
    }
}

/// Text, and what `strtod` makes of it: the value and how many bytes it read.
type StrtodCase = (&'static [u8], Option<(f64, usize)>);

#[test]
fn strtod_reads_what_c_reads() {
    let cases: &[StrtodCase] = &[
        (b"12abc", Some((12.0, 2))),
        (b"  -1.5e3x", Some((-1500.0, 8))),
        (b"1e", Some((1.0, 1))),
        (b"1.", Some((1.0, 2))),
        (b".5", Some((0.5, 2))),
        (b"0x1p4", Some((16.0, 5))),
        (b"0x", Some((0.0, 1))),
        (b"-inf", Some((f64::NEG_INFINITY, 4))),
        (b"Infinity!", Some((f64::INFINITY, 8))),
        (b"-", None),
        (b".", None),
        (b"e5", None),
    ];
    for (text, want) in cases {
        assert_eq!(strtod(text), *want, "{}", text.escape_ascii());
    }
    let nan = strtod(b"nan(123)x").expect("nan");
    assert!(nan.0.is_nan() && nan.1 == 8);
    assert_eq!(str_to_number(b" 10 "), Some(10.0));
    assert_eq!(str_to_number(b"10x"), None);
    assert_eq!(str_to_number(b"0x10"), Some(16.0));
    assert_eq!(str_to_number(b"5\0junk"), Some(5.0));
}

#[test]
fn errors_reach_lua_as_plain_strings() {
    let lua = state();
    let (kind, message): (String, String) = lua
        .load("local ok, e = pcall(cjson.decode, '[') return type(e), e")
        .eval()
        .expect("chunk");
    assert_eq!(kind, "string");
    assert_eq!(message, "Expected value but found T_END at character 2");
    let positioned: String = lua
        .load("local ok, e = pcall(function() local r = bit.band({}) return r end) return e")
        .set_name("=user_script")
        .eval()
        .expect("chunk");
    assert_eq!(
        positioned,
        "user_script:1: bad argument #1 to 'band' (number expected, got table)"
    );
}

#[test]
fn wide_and_deep_values_stay_within_mluas_reference_bound() {
    // mlua keeps at most ~8000 references to Lua values at once; the libraries hold
    // tables and results in Lua instead, so these do not run out.
    let lua = state();
    let n: i64 = lua
        .load(
            "local t = {} for i = 1, 20000 do t['k' .. i] = {i} end
             local j = cjson.decode(cjson.encode(t))
             local m = cmsgpack.unpack(cmsgpack.pack(t))
             local c = 0 for _ in pairs(j) do c = c + 1 end for _ in pairs(m) do c = c + 1 end
             return c",
        )
        .eval()
        .expect("wide values");
    assert_eq!(n, 40_000);
    let strings: i64 = lua
        .load("return select('#', struct.unpack(string.rep('c1', 7000), string.rep('x', 7000)))")
        .eval()
        .expect("many results");
    assert_eq!(strings, 7001);
    let deep: String = lua
        .load(
            "local j = cjson.new() j.decode_max_depth(100000) j.encode_max_depth(100000)
             local v = j.decode(string.rep('[', 7990) .. string.rep(']', 7990))
             return j.encode(v):sub(1, 3)",
        )
        .eval()
        .expect("deep values");
    assert_eq!(deep, "[[[");
}

#[test]
fn many_string_arguments_do_not_exhaust_references() {
    let lua = state();
    let n: i64 = lua
        .load(
            "local t = {} for i = 1, 7900 do t[i] = 's' .. i end
             local packed = cmsgpack.pack(unpack(t))
             return select('#', cmsgpack.unpack(packed))",
        )
        .eval()
        .expect("many arguments");
    assert_eq!(n, 7900);
}
