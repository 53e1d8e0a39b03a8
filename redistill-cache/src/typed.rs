//! [`TypedCache`]: serde keys and values over a [`Cache`], through a [`Codec`].

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::Cache;

/// Why a key or value could not be encoded or decoded.
///
/// # Examples
///
/// ```
/// use redistill_cache::{Codec, Json};
/// let err = Json::decode::<u32>(b"not json").unwrap_err();
/// assert!(!err.to_string().is_empty());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodecError(String);

impl fmt::Display for CodecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CodecError {}

/// A serialization format for [`TypedCache`]'s keys and values.
///
/// # Examples
///
/// ```
/// use redistill_cache::{Codec, Postcard};
/// let bytes = Postcard::encode(&(1u8, "a"))?;
/// assert_eq!(Postcard::decode::<(u8, String)>(&bytes)?, (1, "a".to_string()));
/// # Ok::<(), redistill_cache::CodecError>(())
/// ```
pub trait Codec: Send + Sync + 'static {
    /// `value` as bytes.
    ///
    /// # Errors
    ///
    /// When the format cannot represent `value` (e.g. JSON and a map with non-string keys).
    fn encode<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, CodecError>;

    /// The value `bytes` encode.
    ///
    /// # Errors
    ///
    /// When `bytes` are not an encoding of a `T`.
    fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, CodecError>;
}

/// JSON through `serde_json`: readable values, e.g. to share with other programs.
///
/// # Examples
///
/// ```
/// use redistill_cache::{Codec, Json};
/// assert_eq!(Json::encode(&[1, 2])?, b"[1,2]");
/// # Ok::<(), redistill_cache::CodecError>(())
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct Json;

impl Codec for Json {
    fn encode<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, CodecError> {
        serde_json::to_vec(value).map_err(|e| CodecError(e.to_string()))
    }

    fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, CodecError> {
        serde_json::from_slice(bytes).map_err(|e| CodecError(e.to_string()))
    }
}

/// Compact binary through `postcard` (varints, no field names): the smallest entries,
/// so the most of them in a memory bound. The default codec.
///
/// # Examples
///
/// ```
/// use redistill_cache::{Codec, Postcard};
/// assert_eq!(Postcard::encode(&300u32)?, [0xac, 0x02]);
/// # Ok::<(), redistill_cache::CodecError>(())
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct Postcard;

impl Codec for Postcard {
    fn encode<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, CodecError> {
        postcard::to_stdvec(value).map_err(|e| CodecError(e.to_string()))
    }

    fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, CodecError> {
        postcard::from_bytes(bytes).map_err(|e| CodecError(e.to_string()))
    }
}

/// The handle owns no `K`, `V` or `C`, and is `Send + Sync` whatever they are.
type Types<K, V, C> = fn(K, V, C) -> (K, V);

/// A [`Cache`] of typed keys and values, encoded with the codec `C`.
///
/// Keys are encoded with the same codec, so a typed cache and the byte cache under it
/// ([`TypedCache::raw`]) see the same entries. Cloning is cheap.
///
/// # Examples
///
/// ```
/// use serde::{Deserialize, Serialize};
/// use redistill_cache::{Cache, Json, TypedCache};
///
/// #[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
/// struct User { name: String, visits: u32 }
///
/// let users: TypedCache<u64, User> = TypedCache::new(Cache::new());
/// users.insert(&7, &User { name: "alice".into(), visits: 1 })?;
/// assert_eq!(users.get(&7).map(|u| u.visits), Some(1));
///
/// let readable: TypedCache<String, Vec<u32>, Json> = TypedCache::new(Cache::new());
/// readable.insert(&"k".to_string(), &vec![1, 2])?;
/// assert_eq!(readable.raw().get("\"k\"").as_deref(), Some(&b"[1,2]"[..]));
/// # Ok::<(), redistill_cache::CodecError>(())
/// ```
pub struct TypedCache<K, V, C = Postcard> {
    cache: Cache,
    types: PhantomData<Types<K, V, C>>,
}

impl<K, V, C> Clone for TypedCache<K, V, C> {
    fn clone(&self) -> Self {
        Self {
            cache: self.cache.clone(),
            types: PhantomData,
        }
    }
}

impl<K, V, C> fmt::Debug for TypedCache<K, V, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("TypedCache").field(&self.cache).finish()
    }
}

impl<K, V, C> TypedCache<K, V, C>
where
    K: Serialize,
    V: Serialize + DeserializeOwned,
    C: Codec,
{
    /// A typed view of `cache`.
    ///
    /// # Examples
    ///
    /// ```
    /// use redistill_cache::{Cache, TypedCache};
    /// let cache: TypedCache<u32, String> = TypedCache::new(Cache::new());
    /// # drop(cache);
    /// ```
    pub fn new(cache: Cache) -> Self {
        Self {
            cache,
            types: PhantomData,
        }
    }

    /// The byte cache underneath.
    ///
    /// # Examples
    ///
    /// ```
    /// use redistill_cache::{Cache, TypedCache};
    /// let typed: TypedCache<u32, u32> = TypedCache::new(Cache::new());
    /// typed.insert(&1, &2)?;
    /// assert_eq!(typed.raw().len(), 1);
    /// # Ok::<(), redistill_cache::CodecError>(())
    /// ```
    pub fn raw(&self) -> &Cache {
        &self.cache
    }

    /// The value of `key`. A value that does not decode as a `V` (bytes written through
    /// [`TypedCache::raw`]) reads as absent; [`TypedCache::try_get`] tells.
    ///
    /// # Examples
    ///
    /// ```
    /// use redistill_cache::{Cache, TypedCache};
    /// let typed: TypedCache<&str, (u8, bool)> = TypedCache::new(Cache::new());
    /// typed.insert(&"k", &(1, true))?;
    /// assert_eq!(typed.get(&"k"), Some((1, true)));
    /// assert_eq!(typed.get(&"other"), None);
    /// # Ok::<(), redistill_cache::CodecError>(())
    /// ```
    pub fn get(&self, key: &K) -> Option<V> {
        self.try_get(key).ok().flatten()
    }

    /// [`TypedCache::get`], telling decoding errors.
    ///
    /// # Errors
    ///
    /// When the key cannot be encoded or the stored value does not decode as a `V`.
    ///
    /// # Examples
    ///
    /// ```
    /// use redistill_cache::{Cache, TypedCache};
    /// let typed: TypedCache<u8, String> = TypedCache::new(Cache::new());
    /// typed.raw().insert([1], [0xff]); // key 1 in postcard, not a string's encoding
    /// assert!(typed.try_get(&1).is_err());
    /// ```
    pub fn try_get(&self, key: &K) -> Result<Option<V>, CodecError> {
        let k = C::encode(key)?;
        self.cache.get_with(&k, |v| C::decode(v)).transpose()
    }

    /// Stores `value` under `key` with the cache's default TTL.
    ///
    /// # Errors
    ///
    /// When the key or value cannot be encoded.
    ///
    /// # Examples
    ///
    /// ```
    /// use redistill_cache::{Cache, TypedCache};
    /// let typed: TypedCache<u32, Vec<String>> = TypedCache::new(Cache::new());
    /// typed.insert(&1, &vec!["a".into()])?;
    /// # Ok::<(), redistill_cache::CodecError>(())
    /// ```
    pub fn insert(&self, key: &K, value: &V) -> Result<(), CodecError> {
        self.cache.insert(C::encode(key)?, C::encode(value)?);
        Ok(())
    }

    /// Stores `value` under `key` for `ttl` (see [`Cache::insert_with_ttl`]).
    ///
    /// # Errors
    ///
    /// When the key or value cannot be encoded.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use redistill_cache::{Cache, TypedCache};
    /// let typed: TypedCache<u32, u32> = TypedCache::new(Cache::new());
    /// typed.insert_with_ttl(&1, &2, Duration::from_secs(9))?;
    /// assert!(typed.ttl(&1).is_some());
    /// # Ok::<(), redistill_cache::CodecError>(())
    /// ```
    pub fn insert_with_ttl(&self, key: &K, value: &V, ttl: Duration) -> Result<(), CodecError> {
        self.cache
            .insert_with_ttl(C::encode(key)?, C::encode(value)?, ttl);
        Ok(())
    }

    /// Removes `key`, returning its value if it held one that decodes.
    ///
    /// # Examples
    ///
    /// ```
    /// use redistill_cache::{Cache, TypedCache};
    /// let typed: TypedCache<u32, u32> = TypedCache::new(Cache::new());
    /// typed.insert(&1, &2)?;
    /// assert_eq!(typed.remove(&1), Some(2));
    /// assert_eq!(typed.remove(&1), None);
    /// # Ok::<(), redistill_cache::CodecError>(())
    /// ```
    pub fn remove(&self, key: &K) -> Option<V> {
        let k = C::encode(key).ok()?;
        C::decode(&self.cache.remove(k)?).ok()
    }

    /// Whether `key` is present.
    ///
    /// # Examples
    ///
    /// ```
    /// use redistill_cache::{Cache, TypedCache};
    /// let typed: TypedCache<u32, u32> = TypedCache::new(Cache::new());
    /// assert!(!typed.contains_key(&1));
    /// ```
    pub fn contains_key(&self, key: &K) -> bool {
        C::encode(key).is_ok_and(|k| self.cache.contains_key(k))
    }

    /// The time `key` has left to live (see [`Cache::ttl`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use redistill_cache::{Cache, TypedCache};
    /// let typed: TypedCache<u32, u32> = TypedCache::new(Cache::new());
    /// typed.insert(&1, &1)?;
    /// assert_eq!(typed.ttl(&1), None);
    /// # Ok::<(), redistill_cache::CodecError>(())
    /// ```
    pub fn ttl(&self, key: &K) -> Option<std::time::Duration> {
        self.cache.ttl(C::encode(key).ok()?)
    }

    /// The value of `key`, or the one `init` makes, run once per key however many
    /// callers ask at once (see [`Cache::get_or_insert_with`]).
    ///
    /// # Errors
    ///
    /// When the key or the loaded value cannot be encoded, or the cached one decoded.
    ///
    /// # Examples
    ///
    /// ```
    /// use redistill_cache::{Cache, TypedCache};
    /// let typed: TypedCache<u32, String> = TypedCache::new(Cache::new());
    /// assert_eq!(typed.get_or_insert_with(&1, || "one".to_string())?, "one");
    /// # Ok::<(), redistill_cache::CodecError>(())
    /// ```
    pub fn get_or_insert_with(&self, key: &K, init: impl FnOnce() -> V) -> Result<V, CodecError> {
        self.try_get_or_insert_with(key, || Ok(init()))
    }

    /// [`TypedCache::get_or_insert_with`] with a loader that may fail (see
    /// [`Cache::try_get_or_insert_with`] for who sees the error).
    ///
    /// # Errors
    ///
    /// The loader's error, or a codec error, converted into `E`.
    ///
    /// # Examples
    ///
    /// ```
    /// use redistill_cache::{Cache, CodecError, TypedCache};
    /// let typed: TypedCache<u32, u32> = TypedCache::new(Cache::new());
    /// let r = typed.try_get_or_insert_with(&1, || Err(CodecError::from("down")));
    /// assert!(r.is_err());
    /// ```
    pub fn try_get_or_insert_with<E: From<CodecError>>(
        &self,
        key: &K,
        init: impl FnOnce() -> Result<V, E>,
    ) -> Result<V, E> {
        let k = C::encode(key)?;
        let bytes = self
            .cache
            .try_get_or_insert_with(&k, || Ok::<_, E>(C::encode(&init()?)?))?;
        Ok(C::decode(&bytes)?)
    }

    /// [`TypedCache::get_or_insert_with`] for async code (see
    /// [`Cache::get_or_insert_with_async`]).
    ///
    /// # Errors
    ///
    /// When the key or the loaded value cannot be encoded, or the cached one decoded.
    ///
    /// # Examples
    ///
    /// ```
    /// use redistill_cache::{Cache, TypedCache};
    /// let typed: TypedCache<u32, String> = TypedCache::new(Cache::new());
    /// # let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    /// # rt.block_on(async {
    /// let v = typed.get_or_insert_with_async(&1, async { "one".to_string() }).await?;
    /// assert_eq!(v, "one");
    /// # Ok::<(), redistill_cache::CodecError>(())
    /// # }).unwrap();
    /// ```
    pub async fn get_or_insert_with_async(
        &self,
        key: &K,
        init: impl Future<Output = V>,
    ) -> Result<V, CodecError> {
        let k = C::encode(key)?;
        let bytes = self
            .cache
            .try_get_or_insert_with_async(&k, async { C::encode(&init.await) })
            .await?;
        C::decode(&bytes)
    }
}

impl From<&str> for CodecError {
    fn from(message: &str) -> Self {
        CodecError(message.to_string())
    }
}
