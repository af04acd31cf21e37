//! Steady-state `forward` makes no heap allocation: every buffer is planned at the first
//! call for a batch size. A counting global allocator sees every allocation of this test
//! binary, so it holds only this one test.

use ferrocnn_models::network;
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator unchanged; only counts calls.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller's contract for `alloc` is passed on as is.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System.alloc` through `alloc` above, with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: as for `alloc` and `dealloc`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[network]
mod nets {
    #[block(planes, stride = 1)]
    #[residual(activation = relu)]
    struct Basic {
        conv1: conv!(planes, 3, stride = stride, padding = 1, bias = false),
        bn1: batch_norm!(),
        relu: relu!(),
        conv2: conv!(planes, 3, padding = 1, bias = false),
        bn2: batch_norm!(),
        #[shortcut(when = stride != 1 || in_channels != planes)]
        downsample: seq![conv!(planes, 1, stride = stride, bias = false), batch_norm!()],
    }

    #[block(c1, c3)]
    #[concat]
    struct Mix {
        a: seq![conv!(c1, 1), relu!()],
        b: seq![conv!(c3, 3, padding = 1), relu!()],
        c: max_pool!(3, stride = 1, padding = 1),
    }

    #[block(channels)]
    #[excite]
    struct Se {
        pool: global_avg_pool!(),
        fc1: conv!(channels / 4, 1),
        relu: relu!(),
        fc2: conv!(channels, 1),
        gate: sigmoid!(),
    }

    #[model(input = [3, 32, 32])]
    pub struct Net {
        stem: seq![conv!(16, 3, padding = 1), batch_norm!(), relu!(), max_pool!(2)],
        layer1: seq![Basic!(16), Basic!(32, stride = 2)],
        mix: Mix!(16, 16),
        se: Se!(64),
        dw: depthwise!(3, padding = 1),
        lrn: lrn!(3),
        pool: avg_pool!(2),
        flatten: flatten!(),
        fc1: linear!(64),
        relu: relu!(),
        fc2: linear!(10),
        softmax: softmax!(),
    }
}

#[test]
fn steady_state_forward_allocates_nothing() {
    for threads in [1, 2] {
        let mut net = nets::Net::random(1);
        net.model_mut().set_options(ferrocnn_models::kernels::PlanOptions { threads, ..Default::default() });
        for batch in [1, 2] {
            let x = vec![0.5f32; batch * 3 * 32 * 32];
            // Compiles the program and warms rayon's workers and thread-locals. Every worker
            // must have started first: a worker that starts late (a loaded machine) allocates
            // its queues during the measured passes (seen under a concurrent fuzzer), and so
            // does the first growth of a worker's deque, hence ten passes.
            rayon::broadcast(|_| ());
            for _ in 0..10 {
                net.forward(&x, batch).unwrap();
            }
            let before = ALLOCATIONS.load(Ordering::Relaxed);
            for _ in 0..100 {
                net.forward(&x, batch).unwrap();
            }
            let during = ALLOCATIONS.load(Ordering::Relaxed) - before;
            // With a pool of several threads each pass hands one job to rayon's global
            // injector queue, a linked list of 63-job blocks: one block per 63 passes is
            // rayon's, not ours.
            let rayons = if rayon::current_num_threads() > 1 { 100usize.div_ceil(63) } else { 0 };
            assert!(during <= rayons, "{during} allocations in 100 forward passes, {threads} threads, batch {batch}");
        }
    }
}
