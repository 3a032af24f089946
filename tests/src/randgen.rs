//! A fixed-seed pseudo-random generator of instruction-like byte strings.
//!
//! Uniform random bytes are mostly one-byte opcodes; [`random_insn`] instead biases the first
//! bytes toward what makes decoding interesting: legacy prefixes (66 67 F2 F3 F0, segment), REX,
//! the 0F / 0F 38 / 0F 3A escapes, VEX (C4/C5), EVEX (62), XOP (8F) and 3DNow! (0F 0F), with
//! payload bytes that are mostly well-formed (valid map numbers, EVEX fixed bits, inverted
//! register bits that make C4/C5/62 a VEX/EVEX prefix outside 64-bit mode). The rest of the 15
//! bytes stays uniformly random (ModRM, SIB, displacement, immediates).

/// SplitMix64: tiny, fast and good enough for test inputs.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator with a fixed seed (same seed, same sequence).
    pub const fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A random byte.
    pub fn byte(&mut self) -> u8 {
        self.next_u64() as u8
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        ((self.next_u64() >> 32) * n) >> 32
    }

    /// True with probability `pct` percent.
    pub fn chance(&mut self, pct: u64) -> bool {
        self.below(100) < pct
    }

    /// A random element of `items` (not empty).
    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }
}

/// A source of random numbers for [`edge_bits`]: [`Rng`], or a test's own generator (whose
/// `below` may map the bits differently).
pub trait Draw {
    /// The next 64 random bits.
    fn next_u64(&mut self) -> u64;
    /// A number in `0..n` (`n` > 0).
    fn below(&mut self, n: u64) -> u64;
}

impl Draw for Rng {
    fn next_u64(&mut self) -> u64 {
        Rng::next_u64(self)
    }
    fn below(&mut self, n: u64) -> u64 {
        Rng::below(self, n)
    }
}

/// An edge-biased value of `size` bytes (1, 2, 4 or 8): 0, 1, all ones, the sign boundaries,
/// nibble carries, single bits, small and shifted values, each with a chance of one in
/// `spread`; the rest (`spread` - 14 in `spread`) random bits.
pub fn edge_bits<R: Draw + ?Sized>(rng: &mut R, size: u8, spread: u64) -> u64 {
    let w = 8 * u64::from(size);
    let m = u64::MAX >> (64 - w);
    let msb = 1u64 << (w - 1);
    (match rng.below(spread) {
        0 => 0,
        1 => 1,
        2 => m,
        3 => msb,
        4 => msb - 1,
        5 => msb + 1,
        6 => m - 1,
        7 => rng.below(16),
        8 => m - rng.below(16),
        9 => msb.wrapping_add(rng.below(16)).wrapping_sub(8),
        10 => 1 << rng.below(w),
        11 => m ^ (1 << rng.below(w)),
        12 => {
            const LOW: [u64; 5] = [0x0, 0x1, 0x7, 0x8, 0xf];
            (rng.next_u64() & !0xf) | LOW[rng.below(LOW.len() as u64) as usize]
        }
        13 => rng.next_u64() >> rng.below(64),
        _ => rng.next_u64(),
    }) & m
}

/// Legacy prefixes, the ones that change decoding listed several times (more likely).
const PREFIXES: &[u8] = &[
    0x66, 0x66, 0x66, 0x67, 0x67, 0xf2, 0xf2, 0xf3, 0xf3, 0xf0, 0xf0, 0x26, 0x2e, 0x36, 0x3e, 0x64,
    0x65,
];

/// Valid 3DNow! suffixes (AMD), so that some 0F 0F strings are real instructions.
const NOW3D: &[u8] = &[
    0x0c, 0x0d, 0x1c, 0x1d, 0x8a, 0x8e, 0x90, 0x94, 0x96, 0x97, 0x9a, 0x9e, 0xa0, 0xa4, 0xa6, 0xa7,
    0xaa, 0xae, 0xb0, 0xb4, 0xb6, 0xb7, 0xbb, 0xbf,
];

/// The kind of opcode [`random_insn`] put after the prefixes (for statistics).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Shape {
    /// One-byte opcode.
    Primary,
    /// 0F xx.
    Esc0F,
    /// 0F 38 xx.
    Esc0F38,
    /// 0F 3A xx.
    Esc0F3A,
    /// C5 or C4.
    Vex,
    /// 62.
    Evex,
    /// 8F with a map of 8 or more.
    Xop,
    /// 0F 0F.
    Now3d,
    /// 15 uniformly random bytes.
    Random,
    /// A mutation of an earlier valid input ([`Pool::mutate`]).
    Mutated,
}

/// Fills `out` with a random instruction-like string for 64-bit code (`is64`) or 16/32-bit code,
/// and says which shape was chosen.
pub fn random_insn(rng: &mut Rng, is64: bool, out: &mut [u8; 15]) -> Shape {
    for b in out.iter_mut() {
        *b = rng.byte();
    }
    let roll = rng.below(100);
    if roll >= 96 {
        return Shape::Random;
    }
    let mut bytes: Vec<u8> = Vec::with_capacity(15);
    let vex_like = (63..93).contains(&roll);
    // Legacy prefixes other than 67 and segment make VEX, EVEX and XOP invalid: fewer there.
    let none = if vex_like { 75 } else { 40 };
    let npfx = match rng.below(100) {
        n if n < none => 0,
        n if n < 70 => 1,
        n if n < 88 => 2,
        n if n < 96 => 3,
        _ => 4 + rng.below(4) as usize,
    };
    for _ in 0..npfx {
        bytes.push(rng.pick(PREFIXES));
    }
    // Outside 64-bit mode C4/C5/62/8F need their second byte's top bits set to be a VEX/EVEX
    // prefix (else LES/LDS/BOUND/POP): keep those bits set most of the time.
    let hi = |rng: &mut Rng, b: u8| if is64 || rng.chance(15) { b } else { b | 0xc0 };
    // REX, also before VEX-like prefixes sometimes (that is #UD).
    if is64 && rng.chance(if vex_like { 5 } else { 35 }) {
        bytes.push(0x40 | rng.below(16) as u8);
    }
    let shape = match roll {
        0..30 => {
            bytes.push(rng.byte());
            Shape::Primary
        }
        30..50 => {
            bytes.extend([0x0f, rng.byte()]);
            Shape::Esc0F
        }
        50..57 => {
            bytes.extend([0x0f, 0x38, rng.byte()]);
            Shape::Esc0F38
        }
        57..63 => {
            bytes.extend([0x0f, 0x3a, rng.byte()]);
            Shape::Esc0F3A
        }
        63..75 => {
            // vvvv = 1111 (unused) and L = 0 are the most common valid values.
            let mut last = rng.byte();
            if rng.chance(30) {
                last |= 0x78;
            }
            if rng.chance(30) {
                last &= !0x04;
            }
            if rng.chance(40) {
                let r = rng.byte() & 0x80;
                let b1 = hi(rng, (last & 0x7f) | r);
                bytes.extend([0xc5, b1, rng.byte()]);
            } else {
                let map = if rng.chance(90) {
                    1 + rng.below(3) as u8
                } else {
                    rng.byte() & 0x1f
                };
                let b1 = (rng.byte() & 0xe0) | map;
                bytes.extend([0xc4, hi(rng, b1), last, rng.byte()]);
            }
            Shape::Vex
        }
        75..88 => {
            let map = if rng.chance(90) {
                rng.pick(&[1u8, 2, 3, 5, 6])
            } else {
                rng.byte() & 7
            };
            let mut p0 = (rng.byte() & 0xf0) | map;
            if rng.chance(10) {
                p0 |= 0x08;
            }
            let mut p1 = rng.byte();
            if rng.chance(90) {
                p1 |= 0x04;
            }
            if rng.chance(30) {
                p1 |= 0x78;
            }
            // P2: z, L'L, b, V', aaa. Zeroing, broadcast/rounding and V' = 0 are mostly
            // invalid: keep them rarer.
            let mut p2 = rng.byte();
            if rng.chance(75) {
                p2 &= !0x80;
            }
            if rng.chance(60) {
                p2 &= !0x10;
            }
            if rng.chance(90) {
                p2 |= 0x08;
            }
            bytes.extend([0x62, hi(rng, p0), p1, p2, rng.byte()]);
            Shape::Evex
        }
        88..93 => {
            let map = if rng.chance(90) {
                rng.pick(&[8u8, 9, 10])
            } else {
                rng.byte() & 0x1f
            };
            let b1 = (rng.byte() & 0xe0) | map;
            let mut b2 = rng.byte();
            if rng.chance(85) {
                b2 &= !3;
            }
            bytes.extend([0x8f, b1, b2, rng.byte()]);
            Shape::Xop
        }
        _ => {
            // Register form half of the time, so that the suffix position is known.
            if rng.chance(50) {
                bytes.extend([0x0f, 0x0f, 0xc0 | rng.byte(), rng.pick(NOW3D)]);
            } else {
                bytes.extend([0x0f, 0x0f]);
            }
            Shape::Now3d
        }
    };
    for (o, b) in out.iter_mut().zip(bytes) {
        *o = b;
    }
    shape
}

/// A ring of inputs that a decoder accepted, to derive new inputs from by small mutations.
///
/// Flipping single bits of a valid VEX/EVEX/XOP instruction's payload (W, L, pp, vvvv, R/X/B,
/// z, aaa, b) reaches the validity rules of that very instruction far more often than fresh
/// random bytes do.
#[derive(Clone, Debug)]
pub struct Pool {
    items: Vec<[u8; 15]>,
    next: usize,
    cap: usize,
}

impl Pool {
    /// An empty pool keeping at most `cap` inputs (the oldest are replaced).
    pub fn new(cap: usize) -> Pool {
        Pool {
            items: Vec::with_capacity(cap),
            next: 0,
            cap: cap.max(1),
        }
    }

    /// True when the pool has no input yet.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Adds an input.
    pub fn push(&mut self, bytes: &[u8; 15]) {
        if self.items.len() < self.cap {
            self.items.push(*bytes);
        } else {
            self.items[self.next] = *bytes;
            self.next = (self.next + 1) % self.cap;
        }
    }

    /// Fills `out` with a mutation of a random pooled input: one to three bit flips or byte
    /// replacements, mostly in the first 8 bytes (prefixes, VEX/EVEX/XOP payload, opcode,
    /// ModRM). Returns false (and leaves `out` alone) when the pool is empty.
    pub fn mutate(&self, rng: &mut Rng, out: &mut [u8; 15]) -> bool {
        if self.items.is_empty() {
            return false;
        }
        *out = self.items[rng.below(self.items.len() as u64) as usize];
        for _ in 0..1 + rng.below(3) {
            let at = if rng.chance(85) {
                rng.below(8)
            } else {
                rng.below(15)
            } as usize;
            if rng.chance(75) {
                out[at] ^= 1 << rng.below(8);
            } else {
                out[at] = rng.byte();
            }
        }
        true
    }
}
