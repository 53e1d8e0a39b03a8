//! Geo commands: GEOADD, GEOPOS, GEODIST, GEOHASH, GEOSEARCH(STORE) and the GEORADIUS
//! family, on sorted sets whose scores are 52-bit geohashes (see `redistill_store::geo`).

use redistill_store::geo::{
    self, GeoCenter, GeoFound, GeoMatch, GeoOrder, GeoQuery, GeoShape, valid,
};
use redistill_store::{Event, ZAddOptions};

use super::args::{NOT_INTEGER, SYNTAX, is, parse_i64};
use super::c_float::parse_double;
use super::table::{BeginSearch, FindKeys, KeySpec, acl, flags, key_flags};
use super::zset_args::NOT_FLOAT;
use super::zsets::reply_per_member;
use super::{Command, CommandError, CommandResult, Ctx, fail};

const READ_KEY: &[KeySpec] = &[KeySpec::at(1, key_flags!(RO | ACCESS))];

/// A STORE / STOREDIST destination, searched for from argument `start`.
const fn store_key(keyword: &'static str, start: i32) -> KeySpec {
    KeySpec::new(
        key_flags!(OW | UPDATE),
        BeginSearch::Keyword {
            keyword,
            start_from: start,
        },
        FindKeys::Range {
            last_key: 0,
            step: 1,
            limit: 0,
        },
    )
}

/// GEORADIUS's keys: the source, and the STORE / STOREDIST destination searched for from
/// argument `start`.
const fn radius_keys(start: i32) -> [KeySpec; 3] {
    [
        KeySpec::at(1, key_flags!(RO | ACCESS)),
        store_key("STORE", start),
        store_key("STOREDIST", start),
    ]
}
const GEORADIUS_KEYS: &[KeySpec] = &radius_keys(6);
const GEORADIUSBYMEMBER_KEYS: &[KeySpec] = &radius_keys(5);

pub(super) static COMMANDS: &[Command] = &[
    Command::new("geoadd", -5, geoadd)
        .flags(flags!(WRITE | DENYOOM))
        .acl(acl!(GEO))
        .keys(&[KeySpec::at(1, key_flags!(RW | UPDATE))]),
    Command::new("geopos", -2, geopos)
        .flags(flags!(READONLY))
        .acl(acl!(GEO))
        .keys(READ_KEY),
    Command::new("geodist", -4, geodist)
        .flags(flags!(READONLY))
        .acl(acl!(GEO))
        .keys(READ_KEY),
    Command::new("geohash", -2, geohash)
        .flags(flags!(READONLY))
        .acl(acl!(GEO))
        .keys(READ_KEY),
    Command::new("geosearch", -7, geosearch)
        .flags(flags!(READONLY))
        .acl(acl!(GEO))
        .keys(READ_KEY),
    Command::new("geosearchstore", -8, geosearchstore)
        .flags(flags!(WRITE | DENYOOM))
        .acl(acl!(GEO))
        .keys(&[
            KeySpec::at(1, key_flags!(OW | UPDATE)),
            KeySpec::at(2, key_flags!(RO | ACCESS)),
        ]),
    Command::new("georadius", -6, georadius)
        .flags(flags!(WRITE | DENYOOM))
        .acl(acl!(GEO))
        .keys(GEORADIUS_KEYS),
    Command::new("georadiusbymember", -5, georadiusbymember)
        .flags(flags!(WRITE | DENYOOM))
        .acl(acl!(GEO))
        .keys(GEORADIUSBYMEMBER_KEYS),
    Command::new("georadius_ro", -6, georadius_ro)
        .flags(flags!(READONLY))
        .acl(acl!(GEO))
        .keys(READ_KEY),
    Command::new("georadiusbymember_ro", -5, georadiusbymember_ro)
        .flags(flags!(READONLY))
        .acl(acl!(GEO))
        .keys(READ_KEY),
];

const NO_MEMBER: &str = "ERR could not decode requested zset member";

/// A coordinate as Redis's `printf("%.17Lf")` of it with trailing zeros removed
/// (`addReplyHumanLongDouble`).
fn human(d: f64) -> String {
    let mut s = format!("{d:.17}");
    if s.contains('.') {
        let trimmed = s.trim_end_matches('0').trim_end_matches('.').len();
        s.truncate(trimmed);
    }
    if s == "-0" {
        s = "0".into();
    }
    s
}

/// A distance as Redis prints it: `%.4f`.
fn distance_text(d: f64) -> String {
    format!("{d:.4}")
}

/// A longitude and latitude pair of arguments, checked as GEOADD checks them.
fn lon_lat(lon: &[u8], lat: &[u8]) -> Result<(f64, f64), CommandError> {
    let lon = parse_double(lon).ok_or(NOT_FLOAT)?;
    let lat = parse_double(lat).ok_or(NOT_FLOAT)?;
    if !valid(lon, lat) {
        return Err(fail(format_args!(
            "ERR invalid longitude,latitude pair {lon:.6},{lat:.6}"
        )));
    }
    Ok((lon, lat))
}

/// A unit's size in metres.
fn unit(arg: &[u8]) -> Result<f64, CommandError> {
    let metres = if is(arg, "m") {
        1.0
    } else if is(arg, "km") {
        1000.0
    } else if is(arg, "ft") {
        0.3048
    } else if is(arg, "mi") {
        1609.34
    } else {
        return Err("ERR unsupported unit provided. please use M, KM, FT, MI".into());
    };
    Ok(metres)
}

/// `radius unit`: the radius and the unit's size.
fn radius(args: &[&[u8]]) -> Result<(GeoShape, f64), CommandError> {
    let r = parse_double(args[0]).ok_or("ERR need numeric radius")?;
    if r < 0.0 {
        return Err("ERR radius cannot be negative".into());
    }
    Ok((GeoShape::Radius(r), unit(args[1])?))
}

/// `width height unit`.
fn boxed(args: &[&[u8]]) -> Result<(GeoShape, f64), CommandError> {
    let width = parse_double(args[0]).ok_or("ERR need numeric width")?;
    let height = parse_double(args[1]).ok_or("ERR need numeric height")?;
    if height < 0.0 || width < 0.0 {
        return Err("ERR height or width cannot be negative".into());
    }
    Ok((GeoShape::Box { width, height }, unit(args[2])?))
}

/// GEOADD key [NX|XX] [CH] longitude latitude member ...
fn geoadd(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    let mut opts = ZAddOptions::default();
    let mut first = 2;
    while let Some(arg) = args.get(first) {
        if is(arg, "nx") {
            opts.nx = true;
        } else if is(arg, "xx") {
            opts.xx = true;
        } else if is(arg, "ch") {
            opts.ch = true;
        } else {
            break;
        }
        first += 1;
    }
    let triples = &args[first..];
    if triples.is_empty() || !triples.len().is_multiple_of(3) || (opts.nx && opts.xx) {
        return Err(SYNTAX.into());
    }
    let mut scores = Vec::with_capacity(triples.len() / 3);
    for t in triples.chunks_exact(3) {
        let (lon, lat) = lon_lat(t[0], t[1])?;
        // Checked above: every valid point encodes.
        let score = geo::encode(lon, lat).ok_or(SYNTAX)?;
        scores.push((score, t[2]));
    }
    let added = ctx
        .shared
        .store
        .zadd(ctx.client.db, args[1], &scores, opts)?;
    ctx.reply().len(added.count);
    Ok(())
}

/// GEOPOS key member ...
fn geopos(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    reply_per_member(ctx, args, |reply, score| match score {
        None => reply.null_array(),
        Some(score) => {
            let (lon, lat) = geo::decode(score);
            reply.array(2);
            reply.double_text(human(lon).as_bytes());
            reply.double_text(human(lat).as_bytes());
        }
    })
}

/// GEODIST key member1 member2 [unit]
fn geodist(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    let metres = match args.len() {
        4 => 1.0,
        5 => unit(args[4])?,
        _ => return Err(SYNTAX.into()),
    };
    let scores = ctx
        .shared
        .store
        .zmscore(ctx.client.db, args[1], &args[2..4])?;
    let mut reply = ctx.reply();
    match scores[..] {
        [Some(a), Some(b)] => {
            let (lon1, lat1) = geo::decode(a);
            let (lon2, lat2) = geo::decode(b);
            let d = geo::distance(lon1, lat1, lon2, lat2) / metres;
            reply.bulk(distance_text(d).as_bytes());
        }
        _ => reply.null(),
    }
    Ok(())
}

/// GEOHASH key member ...
fn geohash(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    reply_per_member(ctx, args, |reply, score| match score {
        None => reply.null(),
        Some(score) => reply.bulk(&geo::geohash_string(score)),
    })
}

/// Which of the search commands runs, as Redis's `georadiusGeneric` flags say.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Form {
    /// GEORADIUS (`store`: STORE/STOREDIST allowed).
    Radius { store: bool },
    /// GEORADIUSBYMEMBER.
    RadiusByMember { store: bool },
    /// GEOSEARCH.
    Search,
    /// GEOSEARCHSTORE.
    SearchStore,
}

impl Form {
    fn is_search(self) -> bool {
        matches!(self, Form::Search | Form::SearchStore)
    }

    fn accepts_store(self) -> bool {
        matches!(
            self,
            Form::Radius { store: true } | Form::RadiusByMember { store: true }
        )
    }
}

fn georadius(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    search(ctx, args, Form::Radius { store: true })
}

fn georadiusbymember(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    search(ctx, args, Form::RadiusByMember { store: true })
}

fn georadius_ro(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    search(ctx, args, Form::Radius { store: false })
}

fn georadiusbymember_ro(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    search(ctx, args, Form::RadiusByMember { store: false })
}

fn geosearch(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    search(ctx, args, Form::Search)
}

fn geosearchstore(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    search(ctx, args, Form::SearchStore)
}

/// A search's arguments, read in Redis's order.
#[allow(clippy::struct_excessive_bools)]
struct Search<'a> {
    center: Option<GeoCenter<'a>>,
    shape: Option<(GeoShape, f64)>,
    with_dist: bool,
    with_hash: bool,
    with_coord: bool,
    order: GeoOrder,
    any: bool,
    count: usize,
    store: Option<&'a [u8]>,
    store_dist: bool,
}

/// Reads a search's arguments, failing with Redis's first error. A member to search
/// around must be in the set when the set `exists` (checked where Redis checks it, so
/// errors come in its order).
fn parse_search<'a>(
    ctx: &Ctx<'_>,
    args: &[&'a [u8]],
    form: Form,
    exists: bool,
) -> Result<Search<'a>, CommandError> {
    let store = &ctx.shared.store;
    let db = ctx.client.db;
    let member_known = |member: &[u8]| -> Result<(), CommandError> {
        match store.zscore(db, args[src_index(form)], member)? {
            Some(_) => Ok(()),
            None => Err(NO_MEMBER.into()),
        }
    };
    let mut s = Search {
        center: None,
        shape: None,
        with_dist: false,
        with_hash: false,
        with_coord: false,
        order: GeoOrder::Unsorted,
        any: false,
        count: 0,
        store: None,
        store_dist: false,
    };
    let base = match form {
        Form::Radius { .. } => {
            let (lon, lat) = lon_lat(args[2], args[3])?;
            s.center = Some(GeoCenter::LonLat(lon, lat));
            s.shape = Some(radius(&args[4..6])?);
            6
        }
        Form::RadiusByMember { .. } => {
            // Without the set Redis reads only the options, to answer as it would.
            if exists {
                member_known(args[2])?;
                s.center = Some(GeoCenter::Member(args[2]));
                s.shape = Some(radius(&args[3..5])?);
            }
            5
        }
        Form::Search => 2,
        Form::SearchStore => {
            s.store = Some(args[1]);
            3
        }
    };
    let (mut from_member, mut from_lonlat, mut by_radius, mut by_box) =
        (false, false, false, false);
    let rest = &args[base..];
    let mut i = 0;
    while i < rest.len() {
        let arg = rest[i];
        let left = rest.len() - i - 1;
        if is(arg, "withdist") {
            s.with_dist = true;
        } else if is(arg, "withhash") {
            s.with_hash = true;
        } else if is(arg, "withcoord") {
            s.with_coord = true;
        } else if is(arg, "any") {
            s.any = true;
        } else if is(arg, "asc") {
            s.order = GeoOrder::Asc;
        } else if is(arg, "desc") {
            s.order = GeoOrder::Desc;
        } else if is(arg, "count") && left >= 1 {
            let n = parse_i64(rest[i + 1]).ok_or(NOT_INTEGER)?;
            if n <= 0 {
                return Err("ERR COUNT must be > 0".into());
            }
            s.count = usize::try_from(n).unwrap_or(usize::MAX);
            i += 1;
        } else if (is(arg, "store") || is(arg, "storedist")) && left >= 1 && form.accepts_store() {
            s.store = Some(rest[i + 1]);
            s.store_dist = is(arg, "storedist");
            i += 1;
        } else if is(arg, "storedist") && form == Form::SearchStore {
            s.store_dist = true;
        } else if is(arg, "frommember") && left >= 1 && form.is_search() && !from_lonlat {
            if exists {
                member_known(rest[i + 1])?;
            }
            s.center = Some(GeoCenter::Member(rest[i + 1]));
            from_member = true;
            i += 1;
        } else if is(arg, "fromlonlat") && left >= 2 && form.is_search() && !from_member {
            let (lon, lat) = lon_lat(rest[i + 1], rest[i + 2])?;
            s.center = Some(GeoCenter::LonLat(lon, lat));
            from_lonlat = true;
            i += 2;
        } else if is(arg, "byradius") && left >= 2 && form.is_search() && !by_box {
            s.shape = Some(radius(&rest[i + 1..i + 3])?);
            by_radius = true;
            i += 2;
        } else if is(arg, "bybox") && left >= 3 && form.is_search() && !by_radius {
            s.shape = Some(boxed(&rest[i + 1..i + 4])?);
            by_box = true;
            i += 3;
        } else {
            return Err(SYNTAX.into());
        }
        i += 1;
    }
    if s.store.is_some() && (s.with_dist || s.with_hash || s.with_coord) {
        let what = if form == Form::SearchStore {
            "GEOSEARCHSTORE"
        } else {
            "STORE option in GEORADIUS"
        };
        return Err(fail(format_args!(
            "ERR {what} is not compatible with WITHDIST, WITHHASH and WITHCOORD options"
        )));
    }
    let name = String::from_utf8_lossy(args[0]);
    if form.is_search() && !(from_member || from_lonlat) {
        return Err(fail(format_args!(
            "ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for {name}"
        )));
    }
    if form.is_search() && !(by_radius || by_box) {
        return Err(fail(format_args!(
            "ERR exactly one of BYRADIUS and BYBOX can be specified for {name}"
        )));
    }
    if s.any && s.count == 0 {
        return Err("ERR the ANY argument requires COUNT argument".into());
    }
    Ok(s)
}

/// The source key's index.
fn src_index(form: Form) -> usize {
    if form == Form::SearchStore { 2 } else { 1 }
}

/// GEORADIUS, GEORADIUSBYMEMBER, their _RO forms, GEOSEARCH and GEOSEARCHSTORE, as
/// Redis's `georadiusGeneric`: WRONGTYPE first, then the arguments in order, then the
/// search (a member to search around is looked up again with it, atomically).
fn search(ctx: &mut Ctx<'_>, args: &[&[u8]], form: Form) -> CommandResult {
    let src = args[src_index(form)];
    let db = ctx.client.db;
    let exists = ctx.shared.store.zcard(db, src)? > 0;
    let s = parse_search(ctx, args, form, exists)?;
    let (Some(center), Some((shape, unit))) = (s.center, s.shape) else {
        // Only GEORADIUSBYMEMBER on a missing key reads no centre and shape.
        return answer_empty(ctx, s.store, db);
    };
    let mut order = s.order;
    // COUNT needs the nearest: it sorts, unless ANY says any will do.
    if s.count != 0 && order == GeoOrder::Unsorted && !s.any {
        order = GeoOrder::Asc;
    }
    let q = GeoQuery {
        center,
        shape,
        unit,
        order,
        count: s.count,
        any: s.any,
    };
    let store = &ctx.shared.store;
    if let Some(dst) = s.store {
        let event = if form.is_search() {
            Event::GeoSearchStore
        } else {
            Event::GeoRadiusStore
        };
        return match store.geosearch_store(db, dst, src, &q, s.store_dist, event)? {
            GeoFound::Found(n) => {
                ctx.reply().len(n);
                Ok(())
            }
            GeoFound::NoMember => Err(NO_MEMBER.into()),
            GeoFound::NoKey => {
                ctx.reply().len(0);
                Ok(())
            }
        };
    }
    // A missing key was looked up once, as in Redis (a key miss is notified once).
    let found = match exists.then(|| store.geosearch(db, src, &q)).transpose()? {
        Some(GeoFound::Found(found)) => found,
        None | Some(GeoFound::NoKey) => Vec::new(),
        Some(GeoFound::NoMember) => return Err(NO_MEMBER.into()),
    };
    write_matches(ctx, &found, &s);
    Ok(())
}

/// The answer without a set to search: 0 after deleting the destination, or nothing.
fn answer_empty(ctx: &mut Ctx<'_>, store: Option<&[u8]>, db: usize) -> CommandResult {
    match store {
        Some(dst) => {
            ctx.shared.store.del(db, &[dst])?;
            ctx.reply().len(0);
        }
        None => ctx.reply().array(0),
    }
    Ok(())
}

fn write_matches(ctx: &mut Ctx<'_>, found: &[GeoMatch], s: &Search<'_>) {
    let extras = usize::from(s.with_dist) + usize::from(s.with_hash) + usize::from(s.with_coord);
    let mut reply = ctx.reply();
    reply.array(found.len());
    for m in found {
        if extras > 0 {
            reply.array(extras + 1);
        }
        reply.bulk(&m.member);
        if s.with_dist {
            reply.bulk(distance_text(m.dist).as_bytes());
        }
        if s.with_hash {
            reply.int(m.score as i64);
        }
        if s.with_coord {
            reply.array(2);
            reply.double_text(human(m.lon).as_bytes());
            reply.double_text(human(m.lat).as_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coordinates_print_as_redis_long_doubles() {
        assert_eq!(human(13.361_389_338_970_184), "13.36138933897018433");
        assert_eq!(human(-0.0), "0");
        assert_eq!(human(180.0), "180");
        assert_eq!(distance_text(56.441_3), "56.4413");
    }
}
