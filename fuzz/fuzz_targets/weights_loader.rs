//! The safetensors weight loader on arbitrary bytes and on mutations of a valid file (the
//! seed corpus holds one for `Net` below): `Err` or weights with every tensor of the graph
//! at its shape, never a panic, never an allocation beyond what the input justifies; and
//! what it loads saves and loads back bit for bit.
#![no_main]

use ferrocnn_fuzz::LargestAllocation;
use ferrocnn_models::network;
use ferrocnn_models::nn::Weights;
use libfuzzer_sys::fuzz_target;

#[global_allocator]
static ALLOCATOR: LargestAllocation = LargestAllocation::new();

#[network]
mod nets {
    #[model(input = [2, 6, 6])]
    pub struct Net {
        conv: conv!(3, 3),
        bn: batch_norm!(),
        relu: relu!(),
        flatten: flatten!(),
        fc: linear!(4),
    }
}

/// The parser's tables (names, shapes, the JSON header's strings) grow with the header,
/// which is part of the input, with a vector's doubling at most; plus a fixed allowance.
const SMALL: usize = 64 * 1024;

fuzz_target!(|bytes: &[u8]| {
    let graph = &nets::Net::GRAPH;
    ALLOCATOR.reset();
    let result = Weights::from_safetensors_bytes(graph, bytes);
    let largest = ALLOCATOR.largest();
    assert!(largest <= 2 * bytes.len() + SMALL, "{largest} bytes allocated for a {}-byte file", bytes.len());
    let Ok(weights) = result else { return };
    for spec in graph.param_specs() {
        assert_eq!(weights.get(&spec.name).len(), spec.dims.iter().product::<usize>(), "{}", spec.name);
    }
    let again = Weights::from_safetensors_bytes(graph, &weights.to_safetensors(graph).unwrap()).unwrap();
    for spec in graph.param_specs() {
        let (a, b) = (weights.get(&spec.name), again.get(&spec.name));
        assert!(a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits()), "{}", spec.name);
    }
});
