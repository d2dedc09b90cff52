//! Fallible, 16-byte aligned f32 buffers (docs/abi.md: f32 buffers are 16-byte aligned;
//! allocation failure is a status, never an abort).

/// A zeroed Vec<f32> of `len`, or None if memory cannot be had.
pub fn try_zeroed(len: usize) -> Option<Vec<f32>> {
    let mut v = Vec::new();
    v.try_reserve_exact(len).ok()?;
    v.resize(len, 0.0);
    Some(v)
}

/// A fixed-length f32 region whose first element is 16-byte aligned: a Vec over-allocated by
/// 3 elements, used from the first aligned element (Vec<f32> itself only promises 4 bytes).
/// The Vec never reallocates, so the address is stable for TypeScript's views.
#[derive(Debug)]
pub struct AlignedBuf {
    v: Vec<f32>,
    off: usize,
    len: usize,
}

impl AlignedBuf {
    pub fn zeroed(len: usize) -> Option<Self> {
        let v = try_zeroed(len.checked_add(3)?)?;
        let off = ((16 - (v.as_ptr() as usize % 16)) % 16) / 4;
        Some(AlignedBuf { v, off, len })
    }
    pub fn as_slice(&self) -> &[f32] {
        &self.v[self.off..self.off + self.len]
    }
    pub fn as_mut_slice(&mut self) -> &mut [f32] {
        &mut self.v[self.off..self.off + self.len]
    }
    pub fn as_ptr(&self) -> *const f32 {
        self.as_slice().as_ptr()
    }
    pub fn len(&self) -> usize {
        self.len
    }
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}
