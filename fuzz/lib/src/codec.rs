//! A structured input's byte layout, written once as a `visit` over a [`Codec`].
//!
//! [`Reader`] fills the fields from an `arbitrary::Unstructured` (only `fill_buffer`, which
//! takes bytes from the front in order and gives zeros once the input is used up, so a short
//! input is a valid input with zeroed tail fields); [`Writer`] appends the fields' bytes. The
//! seed generator builds an input as a value and writes it; the fuzz target reads exactly that
//! value back.

use arbitrary::Unstructured;

/// Reads or writes the fields of a structured input, in visit order.
pub trait Codec {
    /// A run of raw bytes.
    fn bytes(&mut self, v: &mut [u8]);

    /// One byte.
    fn u8(&mut self, v: &mut u8) {
        let mut b = [*v];
        self.bytes(&mut b);
        *v = b[0];
    }
    /// Little-endian u16.
    fn u16(&mut self, v: &mut u16) {
        let mut b = v.to_le_bytes();
        self.bytes(&mut b);
        *v = u16::from_le_bytes(b);
    }
    /// Little-endian u32.
    fn u32(&mut self, v: &mut u32) {
        let mut b = v.to_le_bytes();
        self.bytes(&mut b);
        *v = u32::from_le_bytes(b);
    }
    /// Little-endian u64.
    fn u64(&mut self, v: &mut u64) {
        let mut b = v.to_le_bytes();
        self.bytes(&mut b);
        *v = u64::from_le_bytes(b);
    }
    /// Little-endian u128.
    fn u128(&mut self, v: &mut u128) {
        let mut b = v.to_le_bytes();
        self.bytes(&mut b);
        *v = u128::from_le_bytes(b);
    }
}

/// Reads fields from `arbitrary`'s unstructured bytes.
pub struct Reader<'u, 'a> {
    /// The source.
    pub u: &'u mut Unstructured<'a>,
}

impl Codec for Reader<'_, '_> {
    fn bytes(&mut self, v: &mut [u8]) {
        // Never fails: past the end it fills with zeros.
        let _ = self.u.fill_buffer(v);
    }
}

/// Appends fields to a byte vector.
#[derive(Default)]
pub struct Writer {
    /// The bytes written so far.
    pub out: Vec<u8>,
}

impl Codec for Writer {
    fn bytes(&mut self, v: &mut [u8]) {
        self.out.extend_from_slice(v);
    }
}
