//! Geospatial indexes on sorted sets: GEOADD's scores, GEOSEARCH's cells and filters.
//!
//! A point is stored as a sorted-set member whose score is its 52-bit geohash: latitude
//! (in Web Mercator's range, ±85.05112878°) and longitude each cut into 2^26 steps and
//! their bits interleaved, latitude on the even bits. A score decodes to the centre of
//! its cell, so a stored point moves by up to about 0.6 m (see the precision table in
//! the crate's README).
//!
//! A search covers its shape by the geohash cell of the centre and its eight neighbours,
//! at the coarsest level where that works, exactly as Redis 7.0 picks them (the step
//! estimate, the one-step refinement, the pruning of neighbours that cannot hold a
//! match), so the same points are examined and the same cell-boundary behaviour results.
//! Each cell is one score range of the sorted set; every point found there is then
//! checked against the shape with the haversine distance (earth radius 6372797.560856 m).
//!
//! # Examples
//!
//! ```
//! use redistill_store::geo;
//! let score = geo::encode(13.361389, 38.115556).unwrap();
//! assert_eq!(score, 3479099956230698.0);
//! let (lon, lat) = geo::decode(score);
//! assert!((lon - 13.361389).abs() < 1e-5 && (lat - 38.115556).abs() < 1e-5);
//! assert_eq!(&geo::geohash_string(score), b"sqc8b49rny0");
//! let d = geo::distance(13.361389, 38.115556, 15.087269, 37.502669);
//! assert!((d - 166_274.0).abs() < 1.0);
//! ```

use bytes::Bytes;

use crate::changes::Event;
use crate::error::Result;
use crate::partial_sort::partial_sort;
use crate::store::Store;
use crate::zsets::{ScoreBound, ScoreRange, ZScoreScan};

/// The lowest longitude a point may have.
pub const LONG_MIN: f64 = -180.0;
/// The highest longitude a point may have.
pub const LONG_MAX: f64 = 180.0;
/// The lowest latitude a point may have (Web Mercator's limit).
pub const LAT_MIN: f64 = -85.051_128_78;
/// The highest latitude a point may have (Web Mercator's limit).
pub const LAT_MAX: f64 = 85.051_128_78;
/// The earth's radius the distances use, in metres.
pub const EARTH_RADIUS_M: f64 = 6_372_797.560_856;

/// Bits per coordinate in a stored score.
const STEP_MAX: u8 = 26;
/// Web Mercator's half width in metres, which the step estimate doubles a radius up to.
const MERCATOR_MAX: f64 = 20_037_726.37;
/// The standard geohash alphabet.
const BASE32: &[u8; 32] = b"0123456789bcdefghjkmnpqrstuvwxyz";

/// A geohash cell: `step` bits of each coordinate, interleaved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Cell {
    bits: u64,
    step: u8,
}

impl Cell {
    /// Redis marks a pruned neighbour with bits and step both zero.
    const NONE: Cell = Cell { bits: 0, step: 0 };

    fn is_none(self) -> bool {
        self.bits == 0 && self.step == 0
    }

    /// The cell's first score and the first score past it, `min..max`.
    fn score_range(self) -> ScoreRange {
        let shift = 52 - 2 * u32::from(self.step);
        let min = self.bits << shift;
        let max = (self.bits + 1) << shift;
        ScoreRange {
            min: ScoreBound::Inclusive(min as f64),
            max: ScoreBound::Exclusive(max as f64),
        }
    }

    /// The neighbour `dx` cells east and `dy` cells north, wrapping around.
    fn moved(self, dx: i8, dy: i8) -> Cell {
        let lon_bits = 0xaaaa_aaaa_aaaa_aaaa_u64;
        let lat_bits = 0x5555_5555_5555_5555_u64;
        let width = 64 - 2 * u32::from(self.step);
        let shift = |bits: u64, own: u64, other: u64, d: i8| -> u64 {
            // Adding (or subtracting) one with the other coordinate's bits set carries
            // across them.
            let zz = other >> width;
            let moved = match d.signum() {
                1 => bits.wrapping_add(zz + 1),
                -1 => (bits | zz).wrapping_sub(zz + 1),
                _ => return bits,
            };
            moved & (own >> width)
        };
        let x = shift(self.bits & lon_bits, lon_bits, lat_bits, dx);
        let y = shift(self.bits & lat_bits, lat_bits, lon_bits, dy);
        Cell {
            bits: x | y,
            step: self.step,
        }
    }
}

/// Spreads the low 32 bits of `v` onto the even bits.
fn spread(v: u32) -> u64 {
    let mut x = u64::from(v);
    x = (x | (x << 16)) & 0x0000_ffff_0000_ffff;
    x = (x | (x << 8)) & 0x00ff_00ff_00ff_00ff;
    x = (x | (x << 4)) & 0x0f0f_0f0f_0f0f_0f0f;
    x = (x | (x << 2)) & 0x3333_3333_3333_3333;
    (x | (x << 1)) & 0x5555_5555_5555_5555
}

/// Gathers the even bits of `v` into 32 bits.
fn gather(v: u64) -> u32 {
    let mut x = v & 0x5555_5555_5555_5555;
    x = (x | (x >> 1)) & 0x3333_3333_3333_3333;
    x = (x | (x >> 2)) & 0x0f0f_0f0f_0f0f_0f0f;
    x = (x | (x >> 4)) & 0x00ff_00ff_00ff_00ff;
    x = (x | (x >> 8)) & 0x0000_ffff_0000_ffff;
    x = (x | (x >> 16)) & 0x0000_0000_ffff_ffff;
    x as u32
}

/// A coordinate's range.
#[derive(Debug, Clone, Copy)]
struct Span {
    min: f64,
    max: f64,
}

const LONG_SPAN: Span = Span {
    min: LONG_MIN,
    max: LONG_MAX,
};
const LAT_SPAN: Span = Span {
    min: LAT_MIN,
    max: LAT_MAX,
};

/// The cell of `step` bits holding the point, within the ranges given (`None` outside
/// them, or outside the storable range).
fn encode_in(lon: f64, lat: f64, step: u8, lon_span: Span, lat_span: Span) -> Option<Cell> {
    if !valid(lon, lat) || lat < lat_span.min || lat > lat_span.max {
        return None;
    }
    if lon < lon_span.min || lon > lon_span.max {
        return None;
    }
    let scale = (1u64 << step) as f64;
    let lat_off = (lat - lat_span.min) / (lat_span.max - lat_span.min) * scale;
    let lon_off = (lon - lon_span.min) / (lon_span.max - lon_span.min) * scale;
    // Truncated as C converts a double to uint32_t (the top of the range lands one past
    // the last cell, as in Redis).
    Some(Cell {
        bits: spread(lat_off as u32) | (spread(lon_off as u32) << 1),
        step,
    })
}

/// A cell's bounds: `(longitude span, latitude span)`.
fn area(cell: Cell) -> (Span, Span) {
    let lat_i = gather(cell.bits);
    let lon_i = gather(cell.bits >> 1);
    let scale = (1u64 << cell.step) as f64;
    let bound = |span: Span, i: u32| Span {
        min: span.min + (f64::from(i) / scale) * (span.max - span.min),
        max: span.min + (f64::from(i.wrapping_add(1)) / scale) * (span.max - span.min),
    };
    (bound(LONG_SPAN, lon_i), bound(LAT_SPAN, lat_i))
}

/// Whether a longitude and latitude may be stored (GEOADD's check).
///
/// # Examples
///
/// ```
/// use redistill_store::geo;
/// assert!(geo::valid(180.0, 85.05112878));
/// assert!(!geo::valid(0.0, 86.0));
/// ```
pub fn valid(lon: f64, lat: f64) -> bool {
    (LONG_MIN..=LONG_MAX).contains(&lon) && (LAT_MIN..=LAT_MAX).contains(&lat)
}

/// The sorted-set score GEOADD gives a point: its 52-bit geohash. `None` when the point
/// is outside [`valid`]'s range.
///
/// # Examples
///
/// ```
/// use redistill_store::geo;
/// assert_eq!(geo::encode(15.087269, 37.502669), Some(3479447370796909.0));
/// assert_eq!(geo::encode(181.0, 0.0), None);
/// ```
pub fn encode(lon: f64, lat: f64) -> Option<f64> {
    let cell = encode_in(lon, lat, STEP_MAX, LONG_SPAN, LAT_SPAN)?;
    Some(cell.bits as f64)
}

/// The point a score stands for: the centre of its cell, `(longitude, latitude)`,
/// clamped to the storable range. Any score decodes (as the integer it truncates to).
///
/// # Examples
///
/// ```
/// use redistill_store::geo;
/// let (lon, lat) = geo::decode(3479447370796909.0);
/// assert_eq!(format!("{lon:.17} {lat:.17}"), "15.08726745843887329 37.50266842333162032");
/// ```
pub fn decode(score: f64) -> (f64, f64) {
    let (lon, lat) = area(Cell {
        bits: score as u64,
        step: STEP_MAX,
    });
    (
        ((lon.min + lon.max) / 2.0).clamp(LONG_MIN, LONG_MAX),
        ((lat.min + lat.max) / 2.0).clamp(LAT_MIN, LAT_MAX),
    )
}

/// The haversine distance between two points, in metres.
///
/// # Examples
///
/// ```
/// use redistill_store::geo;
/// assert_eq!(geo::distance(1.0, 2.0, 1.0, 2.0), 0.0);
/// let quarter = geo::distance(0.0, 0.0, 90.0, 0.0);
/// assert!((quarter - geo::EARTH_RADIUS_M * std::f64::consts::FRAC_PI_2).abs() < 1e-6);
/// ```
pub fn distance(lon1: f64, lat1: f64, lon2: f64, lat2: f64) -> f64 {
    Haversine::new(lon1, lat1).to(lon2, lat2)
}

/// GEOHASH's answer for a score: the standard 11-character geohash (latitude over
/// ±90°) of the point it decodes to; the 11th character is always `0`, as only 52 bits
/// are kept.
///
/// # Examples
///
/// ```
/// use redistill_store::geo;
/// assert_eq!(&geo::geohash_string(3479447370796909.0), b"sqdtr74hyu0");
/// ```
pub fn geohash_string(score: f64) -> [u8; 11] {
    let (lon, lat) = decode(score);
    let standard_lat = Span {
        min: -90.0,
        max: 90.0,
    };
    let bits = encode_in(lon, lat, STEP_MAX, LONG_SPAN, standard_lat).map_or(0, |c| c.bits);
    let mut out = [b'0'; 11];
    for (i, c) in out.iter_mut().take(10).enumerate() {
        let idx = (bits >> (52 - (i + 1) * 5)) & 0x1f;
        *c = BASE32[idx as usize];
    }
    out
}

/// The shape a search covers, in `unit`s (metres per unit: 1, 1000, 0.3048, 1609.34).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum GeoShape {
    /// BYRADIUS: points within `radius` of the centre.
    Radius(f64),
    /// BYBOX: points within an axis-aligned box `width` by `height` centred there.
    Box {
        /// East-west extent.
        width: f64,
        /// North-south extent.
        height: f64,
    },
}

/// Where a search is centred.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum GeoCenter<'a> {
    /// FROMLONLAT: a longitude and latitude (already checked with [`valid`]).
    LonLat(f64, f64),
    /// FROMMEMBER: a member's position.
    Member(&'a [u8]),
}

/// How results are ordered by distance.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub enum GeoOrder {
    /// As found (cell by cell, by score within a cell).
    #[default]
    Unsorted,
    /// Nearest first.
    Asc,
    /// Farthest first.
    Desc,
}

/// A GEOSEARCH: where, what shape, and which of the matches.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GeoQuery<'a> {
    /// The centre.
    pub center: GeoCenter<'a>,
    /// The shape, in `unit`s.
    pub shape: GeoShape,
    /// Metres per unit.
    pub unit: f64,
    /// The order; COUNT without ANY and without an order means [`GeoOrder::Asc`], as in
    /// Redis, which the caller decides.
    pub order: GeoOrder,
    /// COUNT (0: all).
    pub count: usize,
    /// ANY: stop searching once `count` matches are found.
    pub any: bool,
}

/// One point a search found.
#[derive(Debug, Clone, PartialEq)]
pub struct GeoMatch {
    /// The member.
    pub member: Bytes,
    /// Its score (the 52-bit geohash).
    pub score: f64,
    /// Its longitude (decoded).
    pub lon: f64,
    /// Its latitude (decoded).
    pub lat: f64,
    /// Its distance from the centre, in the query's unit.
    pub dist: f64,
}

/// What a search found.
#[derive(Debug, Clone, PartialEq)]
pub enum GeoFound<T> {
    /// The key holds no sorted set.
    NoKey,
    /// The FROMMEMBER member is not in it.
    NoMember,
    /// The result.
    Found(T),
}

/// A query resolved against its set: the centre's coordinates and the shape.
#[derive(Debug, Clone, Copy)]
struct Area {
    lon: f64,
    lat: f64,
    shape: GeoShape,
    unit: f64,
    /// Distances from the centre.
    from: Haversine,
    /// For a radius: a difference in longitude (degrees) past which a point is certainly
    /// outside; infinite where that test is not known to hold.
    lon_reach: f64,
}

/// The haversine distance from a fixed first point, its own trigonometry done once: the
/// same operations in the same order as [`distance`], so the same results.
#[derive(Debug, Clone, Copy)]
struct Haversine {
    lat_r: f64,
    lon_r: f64,
    cos_lat: f64,
}

impl Haversine {
    fn new(lon: f64, lat: f64) -> Self {
        let lat_r = lat.to_radians_as_redis();
        Haversine {
            lat_r,
            lon_r: lon.to_radians_as_redis(),
            cos_lat: lat_r.cos(),
        }
    }

    fn to(&self, lon: f64, lat: f64) -> f64 {
        let (lat2r, lon2r) = (lat.to_radians_as_redis(), lon.to_radians_as_redis());
        let u = ((lat2r - self.lat_r) / 2.0).sin();
        let v = ((lon2r - self.lon_r) / 2.0).sin();
        2.0 * EARTH_RADIUS_M * (u * u + self.cos_lat * lat2r.cos() * v * v).sqrt().asin()
    }

    /// Whether the point is certainly farther than `limit`: its difference in latitude
    /// alone, a lower bound of the great-circle distance, exceeds it by far more than any
    /// rounding (a relative 1e-9), so the full distance would too.
    fn beyond(&self, lat: f64, limit: f64) -> bool {
        EARTH_RADIUS_M * (lat.to_radians_as_redis() - self.lat_r).abs() > limit * (1.0 + 1e-9)
    }
}

impl Area {
    fn new(lon: f64, lat: f64, shape: GeoShape, unit: f64) -> Area {
        let mut area = Area {
            lon,
            lat,
            shape,
            unit,
            from: Haversine::new(lon, lat),
            lon_reach: f64::INFINITY,
        };
        if let GeoShape::Radius(r) = shape {
            // The box's half width, taken at its edge nearer the pole, is at least the
            // circle's reach in longitude (asin(sin d / cos lat) for an angular radius d),
            // checked for radii to 0.1 radian and edges to 89 degrees of latitude. Past
            // those, or where the circle could wrap around the antimeridian (where the
            // haversine still finds close points), every point is measured.
            let d = r * unit / EARTH_RADIUS_M;
            let (min_lon, min_lat, max_lon, max_lat) = area.bounds();
            let reach = (max_lon - lon).max(lon - min_lon) * (1.0 + 1e-9);
            if d <= 0.1
                && min_lat > -89.0
                && max_lat < 89.0
                && lon - reach > -180.0
                && lon + reach < 180.0
            {
                area.lon_reach = reach;
            }
        }
        area
    }

    /// The bounding box `(min_lon, min_lat, max_lon, max_lat)`, the longitudes taken at
    /// the edge nearer the pole (where a box is widest in degrees).
    fn bounds(&self) -> (f64, f64, f64, f64) {
        let (half_w, half_h) = match self.shape {
            GeoShape::Radius(r) => (r, r),
            GeoShape::Box { width, height } => (width / 2.0, height / 2.0),
        };
        let height = self.unit * half_h;
        let width = self.unit * half_w;
        let lat_delta = (height / EARTH_RADIUS_M).to_degrees_as_redis();
        let at = |lat: f64| {
            (width / EARTH_RADIUS_M / lat.to_radians_as_redis().cos()).to_degrees_as_redis()
        };
        let long_delta = if self.lat < 0.0 {
            at(self.lat - lat_delta)
        } else {
            at(self.lat + lat_delta)
        };
        (
            self.lon - long_delta,
            self.lat - lat_delta,
            self.lon + long_delta,
            self.lat + lat_delta,
        )
    }

    /// The distance from the centre if the point is inside the shape, in metres.
    fn contains(&self, lon: f64, lat: f64) -> Option<f64> {
        match self.shape {
            GeoShape::Radius(r) => {
                let limit = r * self.unit;
                if self.from.beyond(lat, limit) || (lon - self.lon).abs() > self.lon_reach {
                    return None;
                }
                let d = self.from.to(lon, lat);
                (d <= limit).then_some(d)
            }
            GeoShape::Box { width, height } => {
                let (w, h) = (width * self.unit, height * self.unit);
                let lon_d = distance(lon, lat, self.lon, lat);
                let lat_d = distance(lon, lat, lon, self.lat);
                if lon_d > w / 2.0 || lat_d > h / 2.0 {
                    return None;
                }
                Some(self.from.to(lon, lat))
            }
        }
    }

    /// The cells to search, in Redis's order (centre, N, S, E, W, NE, NW, SE, SW), pruned
    /// neighbours as [`Cell::NONE`].
    fn cells(&self) -> [Cell; 9] {
        let (min_lon, min_lat, max_lon, max_lat) = self.bounds();
        let radius = match self.shape {
            GeoShape::Radius(r) => r,
            GeoShape::Box { width, height } => {
                ((width / 2.0) * (width / 2.0) + (height / 2.0) * (height / 2.0)).sqrt()
            }
        } * self.unit;
        let mut step = estimate_step(radius, self.lat);
        let at = |step: u8| {
            encode_in(self.lon, self.lat, step, LONG_SPAN, LAT_SPAN).unwrap_or(Cell::NONE)
        };
        let mut centre = at(step);
        // One step coarser when a neighbour falls short of the bounding box's edge.
        let short = |c: Cell| {
            let (_, north) = area(c.moved(0, 1));
            let (_, south) = area(c.moved(0, -1));
            let (east, _) = area(c.moved(1, 0));
            let (west, _) = area(c.moved(-1, 0));
            north.max < max_lat || south.min > min_lat || east.max < max_lon || west.min > min_lon
        };
        if step > 1 && short(centre) {
            step -= 1;
            centre = at(step);
        }
        let mut cells = [
            centre,
            centre.moved(0, 1),
            centre.moved(0, -1),
            centre.moved(1, 0),
            centre.moved(-1, 0),
            centre.moved(1, 1),
            centre.moved(-1, 1),
            centre.moved(1, -1),
            centre.moved(-1, -1),
        ];
        if step >= 2 {
            let (lon, lat) = area(centre);
            let mut prune = |idx: [usize; 3]| idx.iter().for_each(|&i| cells[i] = Cell::NONE);
            if lat.min < min_lat {
                prune([2, 8, 7]);
            }
            if lat.max > max_lat {
                prune([1, 5, 6]);
            }
            if lon.min < min_lon {
                prune([4, 8, 6]);
            }
            if lon.max > max_lon {
                prune([3, 7, 5]);
            }
        }
        cells
    }
}

/// Degree/radian conversions with Redis's constant (`M_PI / 180`), which may round
/// differently from the standard library's.
trait RedisDegrees {
    fn to_degrees_as_redis(self) -> f64;
    fn to_radians_as_redis(self) -> f64;
}

impl RedisDegrees for f64 {
    fn to_degrees_as_redis(self) -> f64 {
        self / (std::f64::consts::PI / 180.0)
    }
    fn to_radians_as_redis(self) -> f64 {
        self * (std::f64::consts::PI / 180.0)
    }
}

/// The number of bits per coordinate whose cells are about the radius's size.
fn estimate_step(mut range_m: f64, lat: f64) -> u8 {
    if range_m == 0.0 {
        return STEP_MAX;
    }
    let mut step: i32 = 1;
    while range_m < MERCATOR_MAX {
        range_m *= 2.0;
        step += 1;
    }
    step -= 2;
    // Cells narrow towards the poles.
    if !(-66.0..=66.0).contains(&lat) {
        step -= 1;
        if !(-80.0..=80.0).contains(&lat) {
            step -= 1;
        }
    }
    step.clamp(1, i32::from(STEP_MAX)) as u8
}

/// Scans the cells of `area` in `scan`, in Redis's order, collecting the matches (with
/// distances in metres); stops at `limit` matches when it is not 0.
fn collect(scan: &ZScoreScan<'_>, area: &Area, limit: usize) -> Vec<GeoMatch> {
    let cells = area.cells();
    let mut out: Vec<GeoMatch> = Vec::new();
    // Neighbours repeat around the poles and for huge radii: a cell the same as the last
    // one searched is skipped, unless that was the centre (Redis's check skips index 0).
    let mut last = 0;
    for (i, cell) in cells.into_iter().enumerate() {
        if cell.is_none() || (last != 0 && cell == cells[last]) {
            continue;
        }
        if limit > 0 && out.len() >= limit {
            break;
        }
        scan.range(&cell.score_range(), |member, score| {
            let (lon, lat) = decode(score);
            if let Some(dist) = area.contains(lon, lat) {
                out.push(GeoMatch {
                    member: Bytes::copy_from_slice(member),
                    score,
                    lon,
                    lat,
                    dist,
                });
            }
            !(limit > 0 && out.len() >= limit)
        });
        last = i;
    }
    out
}

/// Redis's comparison of two matches: by distance, equal unless one is greater.
fn by_dist(a: &GeoMatch, b: &GeoMatch) -> std::cmp::Ordering {
    a.dist
        .partial_cmp(&b.dist)
        .unwrap_or(std::cmp::Ordering::Equal)
}

/// Orders and cuts the matches as Redis does (a stable sort as glibc's `qsort`, or its
/// partial quicksort when COUNT cuts the result), converting distances to the query's
/// unit.
fn finish(mut found: Vec<GeoMatch>, q: &GeoQuery<'_>) -> Vec<GeoMatch> {
    let desc = match q.order {
        GeoOrder::Unsorted => None,
        GeoOrder::Asc => Some(false),
        GeoOrder::Desc => Some(true),
    };
    if let Some(desc) = desc {
        let mut cmp = |a: &GeoMatch, b: &GeoMatch| if desc { by_dist(b, a) } else { by_dist(a, b) };
        if q.count > 0 && q.count < found.len() {
            let last = i64::try_from(q.count).unwrap_or(i64::MAX) - 1;
            partial_sort(&mut found, 0, last, &mut cmp);
        } else {
            found.sort_by(cmp);
        }
    }
    if q.count > 0 {
        found.truncate(q.count);
    }
    for m in &mut found {
        m.dist /= q.unit;
    }
    found
}

/// Runs `q` on the set read in `scan`.
fn search(scan: Option<ZScoreScan<'_>>, q: &GeoQuery<'_>) -> GeoFound<Vec<GeoMatch>> {
    let Some(scan) = scan else {
        return GeoFound::NoKey;
    };
    let (lon, lat) = match q.center {
        GeoCenter::LonLat(lon, lat) => (lon, lat),
        GeoCenter::Member(m) => match scan.score(m) {
            Some(score) => decode(score),
            None => return GeoFound::NoMember,
        },
    };
    let area = Area::new(lon, lat, q.shape, q.unit);
    let limit = if q.any { q.count } else { 0 };
    GeoFound::Found(finish(collect(&scan, &area, limit), q))
}

impl Store {
    /// GEOSEARCH (and GEORADIUS): the points of the sorted set at `key` inside the
    /// query's shape, read atomically.
    ///
    /// # Errors
    ///
    /// [`crate::StoreError::WrongType`] for another type.
    ///
    /// # Examples
    ///
    /// ```
    /// use redistill_store::{Store, ZAddOptions};
    /// use redistill_store::geo::{self, GeoCenter, GeoFound, GeoOrder, GeoQuery, GeoShape};
    /// let store = Store::new();
    /// let palermo = geo::encode(13.361389, 38.115556).unwrap();
    /// let catania = geo::encode(15.087269, 37.502669).unwrap();
    /// store.zadd(0, b"Sicily", &[(palermo, b"Palermo"), (catania, b"Catania")], ZAddOptions::default())?;
    /// let q = GeoQuery {
    ///     center: GeoCenter::LonLat(15.0, 37.0),
    ///     shape: GeoShape::Radius(200.0),
    ///     unit: 1000.0,
    ///     order: GeoOrder::Asc,
    ///     count: 0,
    ///     any: false,
    /// };
    /// let GeoFound::Found(found) = store.geosearch(0, b"Sicily", &q)? else { panic!() };
    /// let names: Vec<_> = found.iter().map(|m| &m.member[..]).collect();
    /// assert_eq!(names, [&b"Catania"[..], b"Palermo"]);
    /// assert_eq!(format!("{:.4}", found[0].dist), "56.4413");
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn geosearch(
        &self,
        db: usize,
        key: &[u8],
        q: &GeoQuery<'_>,
    ) -> Result<GeoFound<Vec<GeoMatch>>> {
        self.zscore_scan_with(db, key, |scan| search(scan, q))
    }

    /// GEOSEARCHSTORE (and GEORADIUS STORE/STOREDIST): stores the matches as the sorted
    /// set `dst` (scores the geohashes, or with `store_dist` the distances), reporting
    /// `event`, or deletes `dst` when there are none (a missing `src` included); returns
    /// how many were stored. Nothing changes on [`GeoFound::NoMember`].
    ///
    /// # Errors
    ///
    /// [`crate::StoreError::WrongType`] when `src` holds another type,
    /// [`crate::StoreError::OutOfMemory`] over the memory limit.
    ///
    /// # Examples
    ///
    /// ```
    /// use redistill_store::{Event, Store, ZAddOptions};
    /// use redistill_store::geo::{self, GeoCenter, GeoFound, GeoOrder, GeoQuery, GeoShape};
    /// let store = Store::new();
    /// let palermo = geo::encode(13.361389, 38.115556).unwrap();
    /// store.zadd(0, b"Sicily", &[(palermo, b"Palermo")], ZAddOptions::default())?;
    /// let q = GeoQuery {
    ///     center: GeoCenter::Member(b"Palermo"),
    ///     shape: GeoShape::Box { width: 10.0, height: 10.0 },
    ///     unit: 1.0,
    ///     order: GeoOrder::Unsorted,
    ///     count: 0,
    ///     any: false,
    /// };
    /// let stored = store.geosearch_store(0, b"near", b"Sicily", &q, true, Event::GeoSearchStore)?;
    /// assert_eq!(stored, GeoFound::Found(1));
    /// assert_eq!(store.zscore(0, b"near", b"Palermo")?, Some(0.0));
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn geosearch_store(
        &self,
        db: usize,
        dst: &[u8],
        src: &[u8],
        q: &GeoQuery<'_>,
        store_dist: bool,
        event: Event,
    ) -> Result<GeoFound<usize>> {
        let stored = self.zscore_scan_store(db, dst, src, event, |scan| match search(scan, q) {
            GeoFound::NoMember => Err(()),
            GeoFound::NoKey => Ok(Vec::new()),
            GeoFound::Found(found) => Ok(found
                .into_iter()
                .map(|m| {
                    let score = if store_dist { m.dist } else { m.score };
                    (m.member.to_vec(), score)
                })
                .collect()),
        })?;
        Ok(stored.map_or(GeoFound::NoMember, GeoFound::Found))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn cells_move_and_wrap() {
        let c = encode_in(0.0, 0.0, 3, LONG_SPAN, LAT_SPAN).unwrap();
        assert_eq!(c.moved(1, 0).moved(-1, 0), c);
        assert_eq!(c.moved(0, 1).moved(0, -1), c);
        let (lon, _) = area(c);
        let (east, _) = area(c.moved(1, 0));
        assert_eq!(lon.max, east.min);
        let west_edge = encode_in(-180.0, 0.0, 3, LONG_SPAN, LAT_SPAN).unwrap();
        let (wrapped, _) = area(west_edge.moved(-1, 0));
        assert_eq!(wrapped.max, 180.0);
    }

    #[test]
    fn step_estimates_match_redis() {
        assert_eq!(estimate_step(0.0, 0.0), 26);
        assert_eq!(estimate_step(1000.0, 0.0), 14);
        assert_eq!(estimate_step(1000.0, 70.0), 13);
        assert_eq!(estimate_step(1000.0, -85.0), 12);
        assert_eq!(estimate_step(1e9, 0.0), 1);
    }

    /// The README's precision table: the largest distance between a point and the point
    /// its score decodes to, and the largest difference between GEODIST's distance (of the
    /// decoded points) and the haversine distance of the points given, by latitude band.
    /// `cargo test -p redistill-store --release --lib precision_table -- --ignored --nocapture`
    #[test]
    #[ignore = "prints the README's precision table"]
    fn precision_table() {
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        let mut unit = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed >> 11) as f64 / (1u64 << 53) as f64
        };
        for (lo, hi) in [(0.0, 1.0), (44.0, 46.0), (65.0, 67.0), (84.0, 85.05)] {
            let (mut round_trip, mut dist_err, mut rel_err) = (0.0f64, 0.0f64, 0.0f64);
            for _ in 0..1_000_000 {
                let lon = LONG_MIN + unit() * 360.0;
                let lat = lo + unit() * (hi - lo);
                let (dlon, dlat) = decode(encode(lon, lat).unwrap());
                round_trip = round_trip.max(distance(lon, lat, dlon, dlat));
                let lon2 = (lon + (unit() - 0.5) * 0.2).clamp(LONG_MIN, LONG_MAX);
                let lat2 = (lat + (unit() - 0.5) * 0.2).clamp(LAT_MIN, LAT_MAX);
                let (dlon2, dlat2) = decode(encode(lon2, lat2).unwrap());
                let exact = distance(lon, lat, lon2, lat2);
                let err = (distance(dlon, dlat, dlon2, dlat2) - exact).abs();
                dist_err = dist_err.max(err);
                if exact > 1000.0 {
                    rel_err = rel_err.max(err / exact);
                }
            }
            println!(
                "| {lo}..{hi} | {round_trip:.3} | {dist_err:.3} | {:.1e} |",
                rel_err
            );
        }
    }

    /// A brute-force reference: every point's distance computed directly with
    /// [`distance`], then Redis's filters.
    fn brute(points: &[(f64, f64)], area: &Area) -> Vec<usize> {
        (0..points.len())
            .filter(|&i| {
                let (lon, lat) = decode(encode(points[i].0, points[i].1).unwrap());
                match area.shape {
                    GeoShape::Radius(r) => distance(area.lon, area.lat, lon, lat) <= r * area.unit,
                    GeoShape::Box { width, height } => {
                        distance(lon, lat, area.lon, lat) <= width * area.unit / 2.0
                            && distance(lon, lat, lon, area.lat) <= height * area.unit / 2.0
                    }
                }
            })
            .collect()
    }

    /// A store whose sorted set `g` holds `points`, each named by its index.
    fn store_points(points: &[(f64, f64)]) -> Store {
        let store = Store::new();
        let items: Vec<(f64, Vec<u8>)> = points
            .iter()
            .enumerate()
            .map(|(i, &(lon, lat))| (encode(lon, lat).unwrap(), i.to_string().into_bytes()))
            .collect();
        let refs: Vec<(f64, &[u8])> = items.iter().map(|(s, m)| (*s, &m[..])).collect();
        store
            .zadd(0, b"g", &refs, crate::ZAddOptions::default())
            .unwrap();
        store
    }

    /// The indexes named by `found`, in order.
    fn indexes(found: &[GeoMatch]) -> Vec<usize> {
        let mut got: Vec<usize> = found
            .iter()
            .map(|m| std::str::from_utf8(&m.member).unwrap().parse().unwrap())
            .collect();
        got.sort_unstable();
        got
    }

    /// GEOSEARCH of `g` in km around `center`, nearest first.
    fn search_km(store: &Store, center: (f64, f64), shape: GeoShape) -> Vec<GeoMatch> {
        let q = GeoQuery {
            center: GeoCenter::LonLat(center.0, center.1),
            shape,
            unit: 1000.0,
            order: GeoOrder::Asc,
            count: 0,
            any: false,
        };
        let GeoFound::Found(found) = store.geosearch(0, b"g", &q).unwrap() else {
            panic!("no result");
        };
        found
    }

    proptest! {
        #[test]
        fn encode_decode_round_trip(lon in LONG_MIN..=LONG_MAX, lat in LAT_MIN..=LAT_MAX) {
            let (dlon, dlat) = decode(encode(lon, lat).unwrap());
            // Half a cell: 360 / 2^27 degrees of longitude, 170.1 / 2^27 of latitude.
            prop_assert!((dlon - lon).abs() <= 360.0 / f64::from(1u32 << 27) + 1e-12);
            prop_assert!((dlat - lat).abs() <= 170.2 / f64::from(1u32 << 27) + 1e-12);
            prop_assert_eq!(encode(dlon, dlat), encode(lon, lat));
        }

        /// The cells a search examines hold every point the brute force finds (away
        /// from the poles and the antimeridian, where the cells' cover is Redis's own).
        #[test]
        fn search_finds_what_brute_force_finds(
            center in (-60.0..60.0f64, -60.0..60.0f64),
            offsets in prop::collection::vec((-0.5..0.5f64, -0.5..0.5f64), 1..60),
            radius_km in 0.1..40.0f64,
            boxed in any::<bool>(),
        ) {
            let points: Vec<(f64, f64)> =
                offsets.iter().map(|(dx, dy)| (center.0 + dx, center.1 + dy)).collect();
            let store = store_points(&points);
            let shape = if boxed {
                GeoShape::Box { width: radius_km * 2.0, height: radius_km }
            } else {
                GeoShape::Radius(radius_km)
            };
            let found = search_km(&store, center, shape);
            let area = Area::new(center.0, center.1, shape, 1000.0);
            prop_assert_eq!(indexes(&found), brute(&points, &area));
            prop_assert!(found.windows(2).all(|w| w[0].dist <= w[1].dist));
        }

        /// Points a hair inside and outside the circle, all around it and at any
        /// latitude the cells cover: the radius search keeps exactly the ones the
        /// haversine keeps, whatever its shortcuts.
        #[test]
        fn radius_edges_match_the_haversine(
            center in (-179.0..179.0f64, -84.0..84.0f64),
            radius_km in 0.01..700.0f64,
            bearings in prop::collection::vec((0.0..std::f64::consts::TAU, -1e-6..1e-6f64), 1..40),
        ) {
            let d0 = radius_km * 1000.0 / EARTH_RADIUS_M;
            let (lat1, lon1) = (center.1.to_radians(), center.0.to_radians());
            let points: Vec<(f64, f64)> = bearings
                .iter()
                .filter_map(|&(theta, rel)| {
                    let d = d0 * (1.0 + rel);
                    let lat2 = (lat1.sin() * d.cos() + lat1.cos() * d.sin() * theta.cos()).asin();
                    let lon2 = lon1
                        + (theta.sin() * d.sin() * lat1.cos()).atan2(d.cos() - lat1.sin() * lat2.sin());
                    let (lon, lat) = (lon2.to_degrees(), lat2.to_degrees());
                    (encode(lon, lat).is_some()).then_some((lon, lat))
                })
                .collect();
            prop_assume!(!points.is_empty());
            let store = store_points(&points);
            let shape = GeoShape::Radius(radius_km);
            let area = Area::new(center.0, center.1, shape, 1000.0);
            let got = indexes(&search_km(&store, center, shape));
            // The cells may miss points the brute force finds (Redis's cover); the
            // shortcut must not drop any point the cells did bring.
            let want = brute(&points, &area);
            let without_shortcut = Area { lon_reach: f64::INFINITY, ..area };
            prop_assert!(got.iter().all(|i| want.contains(i)));
            let cells_found = store
                .zscore_scan_with(0, b"g", |scan| {
                    indexes(&collect(&scan.unwrap(), &without_shortcut, 0))
                })
                .unwrap();
            prop_assert_eq!(got, cells_found);
        }
    }
}
