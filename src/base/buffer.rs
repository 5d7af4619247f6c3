//! Host memory: the buffer behind a CPU tensor (and the staging side of device copies).

#[allow(unused_imports)] // named by the dtype table's expansion
use super::{Bool8, DType};
use crate::error::{Error, Result};

macro_rules! define_buffer {
    ($($V:ident $T:ty, $name:literal $scalar:literal $legacy:literal $kind:ident;)*) => {
        /// Host memory of one dtype: a vector per dtype (bools as bytes, never Rust `bool`s:
        /// see [`Bool8`]), or memory owned by someone else.
        #[derive(Debug)]
        pub enum Buffer {
            $($V(Vec<$T>),)*
            /// Memory owned by someone else (a NumPy array given to `from_numpy`), kept alive
            /// by `owner` for as long as this buffer exists.
            Foreign(Foreign),
        }

        impl Buffer {
            pub fn dtype(&self) -> DType {
                match self {
                    $(Buffer::$V(_) => DType::$V,)*
                    Buffer::Foreign(f) => f.dtype,
                }
            }

            pub fn len(&self) -> usize {
                match self {
                    $(Buffer::$V(v) => v.len(),)*
                    Buffer::Foreign(f) => f.len,
                }
            }

            /// The address of the first element.
            pub fn as_ptr(&self) -> usize {
                match self {
                    $(Buffer::$V(v) => v.as_ptr() as usize,)*
                    Buffer::Foreign(f) => f.as_ptr(),
                }
            }

            /// The elements from element `offset` on, as bytes (for copies to a device).
            pub fn host_bytes(&self, offset: usize) -> &[u8] {
                let size = self.dtype().size_of();
                let all: &[u8] = match self {
                    $(Buffer::$V(v) => bytes(v),)*
                    // SAFETY: the constructor's contract: `len` elements of `dtype` at `ptr`.
                    Buffer::Foreign(f) => unsafe { std::slice::from_raw_parts(f.ptr, f.len * size) },
                };
                &all[offset * size..]
            }

            /// The elements as mutable bytes (for copies from a device).
            pub fn host_bytes_mut(&mut self) -> &mut [u8] {
                fn bytes_mut<T>(v: &mut [T]) -> &mut [u8] {
                    // SAFETY: numbers and `Bool8` bytes: every bit pattern is a valid value.
                    unsafe {
                        std::slice::from_raw_parts_mut(v.as_mut_ptr() as *mut u8, std::mem::size_of_val(v))
                    }
                }
                match self {
                    $(Buffer::$V(v) => bytes_mut(v),)*
                    Buffer::Foreign(_) => panic!("host_bytes_mut of a borrowed buffer"),
                }
            }

            /// A zero-filled buffer; fails cleanly instead of aborting when memory is short.
            pub fn zeros(dtype: DType, len: usize) -> Result<Buffer> {
                fn alloc<T: Clone + Default>(len: usize, dtype: DType) -> Result<Vec<T>> {
                    check_host_alloc(dtype, len)?;
                    let refused = || cannot_allocate((len as u128) * dtype.size_of() as u128);
                    let layout = std::alloc::Layout::array::<T>(len).map_err(|_| refused())?;
                    if layout.size() == 0 {
                        return Ok(Vec::new());
                    }
                    // Zeroed by the allocator (calloc): memory fresh from the OS is zero
                    // already, so a large tensor costs no pass over it here (a resize did).
                    // SAFETY: the size is not zero; every dtype's element (numbers, `Bool8`,
                    // the half types) is valid as all-zero bytes; the memory comes from the
                    // global allocator with `Vec<T>`'s layout for `len` elements.
                    unsafe {
                        let ptr = std::alloc::alloc_zeroed(layout).cast::<T>();
                        if ptr.is_null() {
                            return Err(refused());
                        }
                        Ok(Vec::from_raw_parts(ptr, len, len))
                    }
                }
                Ok(match dtype {
                    $(DType::$V => Buffer::$V(alloc(len, dtype)?),)*
                })
            }
        }
    };
}
crate::dtype_table!(define_buffer);

pub struct Foreign {
    dtype: DType,
    ptr: *mut u8,
    len: usize,
    _owner: Box<dyn std::any::Any + Send + Sync>,
}

impl std::fmt::Debug for Foreign {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Foreign({:?}, {} elements)", self.dtype, self.len)
    }
}

// SAFETY: the memory is only reached through `Storage`'s lock, like a Vec's, and the owner
// that keeps it alive is itself Send + Sync.
unsafe impl Send for Foreign {}
unsafe impl Sync for Foreign {}

impl Foreign {
    /// # Safety
    /// `ptr` must address `len` properly aligned, initialised elements of `dtype` that stay
    /// valid (and are not freed or moved) for as long as `owner` is alive.
    pub unsafe fn new(
        dtype: DType,
        ptr: *mut u8,
        len: usize,
        owner: Box<dyn std::any::Any + Send + Sync>,
    ) -> Foreign {
        Foreign {
            dtype,
            ptr,
            len,
            _owner: owner,
        }
    }

    /// The elements as a slice of `T` (whose dtype the caller has checked).
    pub fn slice<T>(&self) -> &[T] {
        // SAFETY: guaranteed by the constructor's contract.
        unsafe { std::slice::from_raw_parts(self.ptr as *const T, self.len) }
    }

    #[allow(clippy::mut_from_ref)]
    pub fn slice_mut<T>(&mut self) -> &mut [T] {
        // SAFETY: as above; `&mut self` means the storage's write lock is held.
        unsafe { std::slice::from_raw_parts_mut(self.ptr as *mut T, self.len) }
    }

    pub fn as_ptr(&self) -> usize {
        self.ptr as usize
    }

    /// What keeps the memory alive (a NumPy array, page-locked memory): callers ask what
    /// kind of memory it is by downcasting.
    pub fn owner(&self) -> &(dyn std::any::Any + Send + Sync) {
        &*self._owner
    }
}

impl Buffer {
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn bytes<T>(v: &[T]) -> &[u8] {
    // SAFETY: numbers and `Bool8` bytes have no padding bytes.
    unsafe { std::slice::from_raw_parts(v.as_ptr() as *const u8, std::mem::size_of_val(v)) }
}

/// PyTorch's words for a host allocation it cannot make.
fn cannot_allocate(bytes: u128) -> Error {
    Error::Runtime(format!(
        "[enforce fail at alloc_cpu.cpp:127] err == 0. DefaultCPUAllocator: can't allocate \
         memory: you tried to allocate {bytes} bytes. Error code 12 (Cannot allocate memory)"
    ))
}

/// The most bytes one host buffer may take: physical memory plus swap, capped by the cgroup's
/// `memory.max` when there is one. Read once. Linux overcommits, so without this rule a request
/// far beyond the machine (`zeros(10**12)`) would succeed and then fill memory page by page
/// until the OOM killer ends the process; anything this rule lets through may still fail in
/// `try_reserve_exact`, which is an error too, never an abort.
pub fn host_alloc_limit() -> u128 {
    static LIMIT: std::sync::OnceLock<u128> = std::sync::OnceLock::new();
    *LIMIT.get_or_init(|| {
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let field = |name: &str| -> Option<u128> {
            let line = meminfo.lines().find(|l| l.starts_with(name))?;
            let kib: u128 = line.split_whitespace().nth(1)?.parse().ok()?;
            Some(kib * 1024)
        };
        let mut limit = match (field("MemTotal:"), field("SwapTotal:")) {
            (Some(m), s) => m + s.unwrap_or(0),
            // Not Linux (or no /proc): leave it to the allocator.
            (None, _) => u128::MAX,
        };
        if let Ok(max) = std::fs::read_to_string("/sys/fs/cgroup/memory.max") {
            if let Ok(cg) = max.trim().parse::<u128>() {
                let swap = std::fs::read_to_string("/sys/fs/cgroup/memory.swap.max")
                    .ok()
                    .and_then(|s| s.trim().parse::<u128>().ok())
                    .unwrap_or(0);
                limit = limit.min(cg + swap);
            }
        }
        limit
    })
}

/// Refuses a host buffer of `len` elements of `dtype` that the machine cannot hold (see
/// [`host_alloc_limit`]), with PyTorch's error. Every host buffer a kernel fills is checked
/// here first (`Buffer::zeros` and the `Memory` methods that produce a result).
/// An empty vector with room for `len` elements of `dtype`, refused (an error, not an abort)
/// when the machine cannot hold them.
pub fn reserve_host<T>(dtype: DType, len: usize) -> Result<Vec<T>> {
    check_host_alloc(dtype, len)?;
    let mut v = Vec::new();
    v.try_reserve_exact(len)
        .map_err(|_| cannot_allocate((len as u128) * dtype.size_of() as u128))?;
    Ok(v)
}

pub fn check_host_alloc(dtype: DType, len: usize) -> Result<()> {
    let bytes = (len as u128) * dtype.size_of() as u128;
    if bytes > host_alloc_limit() || bytes > isize::MAX as u128 {
        return Err(cannot_allocate(bytes));
    }
    Ok(())
}
