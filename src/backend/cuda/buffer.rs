//! Device memory behind a CUDA tensor: a block from the device's caching allocator, returned
//! to it when the last tensor using the storage goes away.

use std::sync::Arc;

use super::device::CudaDevice;
use crate::base::DType;
use crate::error::Result;

pub struct CudaBuffer {
    ptr: u64,
    /// The block's (rounded) size, as the allocator counts it.
    size: usize,
    len: usize,
    dtype: DType,
    device: Arc<CudaDevice>,
}

impl std::fmt::Debug for CudaBuffer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "CudaBuffer({:?}, {} elements on cuda:{})",
            self.dtype, self.len, self.device.ordinal
        )
    }
}

impl CudaBuffer {
    /// `len` uninitialised elements.
    pub fn alloc(device: &Arc<CudaDevice>, dtype: DType, len: usize) -> Result<CudaBuffer> {
        if super::ops::suffix(dtype).is_empty() {
            // No kernels for it yet: refused where device memory is made, so no kernel is
            // ever asked for one.
            return Err(crate::error::Error::NotImplemented(format!(
                "rustgrad: {} tensors are not supported on CUDA yet",
                dtype.name()
            )));
        }
        let bytes = len.checked_mul(dtype.size_of()).ok_or_else(|| {
            super::device::out_of_memory(
                len as u128 * dtype.size_of() as u128,
                device.ordinal,
                device.memory_allocated(),
            )
        })?;
        let (ptr, size) = device.alloc(bytes)?;
        Ok(CudaBuffer {
            ptr,
            size,
            len,
            dtype,
            device: device.clone(),
        })
    }

    pub fn zeros(device: &Arc<CudaDevice>, dtype: DType, len: usize) -> Result<CudaBuffer> {
        let b = CudaBuffer::alloc(device, dtype, len)?;
        device.zero(b.ptr, len * dtype.size_of())?;
        Ok(b)
    }

    /// A copy of `bytes` (the native representation of `len` elements of `dtype`).
    pub fn from_host(
        device: &Arc<CudaDevice>,
        dtype: DType,
        len: usize,
        bytes: &[u8],
    ) -> Result<CudaBuffer> {
        debug_assert_eq!(bytes.len(), len * dtype.size_of());
        let b = CudaBuffer::alloc(device, dtype, len)?;
        device.upload(b.ptr, bytes)?;
        Ok(b)
    }

    /// A device copy of page-locked host bytes (a pinned tensor's), read in place.
    pub fn from_pinned_host(
        device: &Arc<CudaDevice>,
        dtype: DType,
        len: usize,
        bytes: &[u8],
    ) -> Result<CudaBuffer> {
        debug_assert_eq!(bytes.len(), len * dtype.size_of());
        let b = CudaBuffer::alloc(device, dtype, len)?;
        device.upload_pinned(b.ptr, bytes)?;
        Ok(b)
    }

    /// Copies `dst.len()` bytes starting at element `offset` to the host.
    pub fn download(&self, offset: usize, dst: &mut [u8]) -> Result<()> {
        self.device.download(dst, self.ptr_at(offset))
    }

    pub fn ptr(&self) -> u64 {
        self.ptr
    }

    /// The address of element `offset`.
    pub fn ptr_at(&self, offset: usize) -> u64 {
        self.ptr + (offset * self.dtype.size_of()) as u64
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn dtype(&self) -> DType {
        self.dtype
    }

    pub fn device(&self) -> &Arc<CudaDevice> {
        &self.device
    }
}

impl Drop for CudaBuffer {
    fn drop(&mut self) {
        self.device.free(self.ptr, self.size);
    }
}
