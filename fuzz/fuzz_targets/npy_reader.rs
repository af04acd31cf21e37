//! The `.npy` reader on arbitrary bytes: `Err` or an array whose data is exactly the
//! shape's element count, never a panic, never an allocation beyond what the file holds;
//! and whatever it reads, writing it back and reading again gives the same array.
#![no_main]

use ferrocnn_fuzz::LargestAllocation;
use ferrocnn_models::npy;
use libfuzzer_sys::fuzz_target;

#[global_allocator]
static ALLOCATOR: LargestAllocation = LargestAllocation::new();

/// Bookkeeping allocations (the header's text, the shape's vector) stay small whatever
/// the input; only the data may grow with it, at 4 bytes per 4 bytes of file.
const SMALL: usize = 4096;

fuzz_target!(|bytes: &[u8]| {
    ALLOCATOR.reset();
    let result = npy::read(bytes);
    let largest = ALLOCATOR.largest();
    assert!(largest <= bytes.len() + SMALL, "{largest} bytes allocated for a {}-byte file", bytes.len());
    let Ok(array) = result else { return };
    assert_eq!(array.data.len(), array.shape.iter().product::<usize>());
    let again = npy::read(&npy::write(&array.shape, &array.data).unwrap()).unwrap();
    assert_eq!(again.shape, array.shape);
    assert!(again.data.iter().zip(&array.data).all(|(a, b)| a.to_bits() == b.to_bits()));
});
