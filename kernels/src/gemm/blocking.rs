//! Cache-derived block sizes (Goto & van de Geijn, "Anatomy of High-Performance Matrix
//! Multiplication", 2008; Low et al., "Analytical Modeling Is Enough for High-Performance
//! BLIS", 2016).
//!
//! The loop nest keeps one A micro-panel (MR x KC) in L1 while the B micro-panels of a block
//! (KC x NC) stream through it from L2:
//! - KC: the A micro-panel takes half of L1, leaving the other half for the B stream and C.
//! - NC: the B block takes half of L2, leaving room for A panels and C tiles passing through.
//! - No block is sized from L3: A is packed whole ahead (weights) or read in place (images),
//!   so there is no MC block to fit there; L3 simply holds the packed weights being
//!   streamed. Its size is read for reports.

use super::microkernel::TileKernel;
use std::sync::OnceLock;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheSizes {
    pub l1d: usize,
    /// Ways of L1d: with its size, how many lines one set holds.
    pub l1d_ways: usize,
    pub l2: usize,
    pub l3: usize,
}

/// Per-core L1d and L2, and the shared L3, read once from the OS (Linux sysfs); common
/// x86-64 server sizes where that is not available.
pub fn cache_sizes() -> CacheSizes {
    static SIZES: OnceLock<CacheSizes> = OnceLock::new();
    *SIZES.get_or_init(|| {
        let mut sizes = CacheSizes { l1d: 32 << 10, l1d_ways: 8, l2: 512 << 10, l3: 8 << 20 };
        for index in 0..8 {
            let dir = format!("/sys/devices/system/cpu/cpu0/cache/index{index}");
            let read = |f: &str| std::fs::read_to_string(format!("{dir}/{f}")).ok();
            let (Some(level), Some(kind), Some(size)) = (read("level"), read("type"), read("size")) else {
                continue;
            };
            let Some(bytes) = parse_size(size.trim()) else {
                continue;
            };
            match (level.trim(), kind.trim()) {
                ("1", "Data") => {
                    sizes.l1d = bytes;
                    if let Some(ways) = read("ways_of_associativity").and_then(|w| w.trim().parse().ok()) {
                        sizes.l1d_ways = ways;
                    }
                }
                ("2", "Unified") => sizes.l2 = bytes,
                ("3", "Unified") => sizes.l3 = bytes,
                _ => {}
            }
        }
        sizes
    })
}

fn parse_size(s: &str) -> Option<usize> {
    let (digits, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: usize = digits.parse().ok()?;
    Some(match unit {
        "" => n,
        "K" => n << 10,
        "M" => n << 20,
        _ => return None,
    })
}

/// Block sizes for one GEMM.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Blocking {
    /// Depth of one pass over K; K is split into equal blocks no deeper than the L1 bound.
    pub kc: usize,
    /// Columns of B per packed block, a multiple of NR.
    pub nc: usize,
}

/// Block sizes for a GEMM of depth `k` on `tile`. `a_in_place`: A is read through the
/// indirect kernels rather than copied into a micro-panel; what such a tile keeps in L1 is
/// the image lines its pixels touch, shared between taps, so K is split half as often —
/// fewer passes that each merge C (measured on AVX-512, 1 thread: 512x7x7 +17%, 256x14x14
/// +4%, 128x28x28 +3%, the rest unchanged). Three times instead of twice, so that the
/// stride-2 3x3 256x14x14 -> 512 takes its 2304 in one pass, not two: 0.464-0.471 ms
/// either way, 128x28x28 -> 256 0.452-0.457 (1 thread, three rounds, 2026-11-25).
pub(crate) fn blocking(tile: &TileKernel, k: usize, a_in_place: bool) -> Blocking {
    let caches = cache_sizes();
    let f32s = size_of::<f32>();
    let depth = if a_in_place { 2 } else { 1 };
    let kc_max = (depth * caches.l1d / 2 / (f32s * tile.mr)).max(64);
    let kc = k.div_ceil(k.div_ceil(kc_max).max(1)).max(1);
    let nc = (caches.l2 / 2 / (f32s * kc) / tile.nr * tile.nr).max(tile.nr);
    Blocking { kc, nc }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sysfs_sizes_parse() {
        assert_eq!(parse_size("48K"), Some(48 << 10));
        assert_eq!(parse_size("32768K"), Some(32 << 20));
        assert_eq!(parse_size("1M"), Some(1 << 20));
        assert_eq!(parse_size("big"), None);
    }
}
