//! `ferrocnn run`: inference on real data, `.npy` in and out.
//!
//! Everything that can be wrong with the inputs is checked before any output is written,
//! and the output is written to a temporary file renamed into place, so a failed run
//! leaves no file, or the previous one, behind.

use super::args::{Args, parse_usize};
use super::model::{graph_named, load_weights};
use super::{Failure, pool};
use crate::nn::{Graph, Op};
use crate::npy;
use ferrocnn_kernels::PlanOptions;
use ferrocnn_kernels::dispatch::active_isa;
use ferrocnn_kernels::reference;
use std::path::Path;

pub fn run(args: &Args) -> Result<(), Failure> {
    args.allow(&["--model", "--weights", "--input", "--output", "--top", "--threads"], 1)?;
    let graph = graph_named(args)?;
    let weights_path = args.required("--weights")?;
    let input_path = args.required("--input")?;
    let output_path = args.str("--output");
    let top = args.str("--top").map(|k| parse_usize("--top", k)).transpose()?;
    match (output_path, top) {
        (None, None) => return Err(Failure::Usage("nothing to do: give --output FILE.npy, --top K, or both".into())),
        (_, Some(0)) => return Err(Failure::Usage("--top: must be at least 1, got 0".into())),
        (_, Some(k)) if !graph.output().flat => {
            return Err(Failure::Usage(format!(
                "--top {k}: {} outputs a {} map per image, not a vector of class scores",
                graph.name,
                graph.output()
            )));
        }
        _ => {}
    }
    let (pool, threads) = pool(args)?;

    let (images, batch) = read_images(input_path, &graph)?;
    super::check_memory("run", (images.len() + batch * graph.output().len()) as u128).map_err(Failure::Failed)?;
    let mut model = load_weights(graph, weights_path)?;
    model.set_options(PlanOptions { isa: active_isa(), threads });
    let mut program = pool.install(|| model.into_program(batch)).map_err(|e| Failure::Failed(format!("run: {e}")))?;
    let output = pool.install(|| program.run(&images)).map_err(|e| Failure::Failed(format!("run: {e}")))?;

    if let Some(path) = output_path {
        let shape: Vec<usize> = std::iter::once(batch).chain(graph.output().dims()).collect();
        write_atomically(path, &npy::write(&shape, output).map_err(|e| Failure::Failed(e.to_string()))?)?;
    }
    if let Some(k) = top {
        print_top(&graph, output, batch, k);
    }
    Ok(())
}

/// The images of `.npy` file `path` and how many there are: N x C x H x W, or C x H x W
/// for one image, with C x H x W the graph's input.
fn read_images(path: &str, graph: &Graph) -> Result<(Vec<f32>, usize), Failure> {
    let failed = |what: String| Failure::Failed(format!("--input {path}: {what}"));
    let bytes = std::fs::read(path).map_err(|e| failed(e.to_string()))?;
    let array = npy::read(&bytes).map_err(|e| failed(e.to_string()))?;
    let want = graph.input();
    let batch = match array.shape.as_slice() {
        [n, c, h, w] if [*c, *h, *w] == [want.channels, want.height, want.width] => *n,
        [c, h, w] if [*c, *h, *w] == [want.channels, want.height, want.width] => 1,
        shape => {
            return Err(failed(format!("shape {shape:?}, but {} takes N x {want} (or one {want} image)", graph.name)));
        }
    };
    if batch == 0 {
        return Err(failed("holds no image (N = 0)".into()));
    }
    if let Some(i) = array.data.iter().position(|v| !v.is_finite()) {
        let index = unravel(i, &array.shape);
        return Err(failed(format!("value {} at {index:?} is not a finite number", array.data[i])));
    }
    Ok((array.data, batch))
}

/// The multi-index of flat index `i` in a C-order array of `shape`.
fn unravel(mut i: usize, shape: &[usize]) -> Vec<usize> {
    let mut index = vec![0; shape.len()];
    for (slot, &d) in index.iter_mut().zip(shape).rev() {
        *slot = i % d;
        i /= d;
    }
    index
}

/// Writes `bytes` to a temporary file beside `path`, then renames it into place: a reader
/// of `path` sees the old file or the whole new one, never part of it.
fn write_atomically(path: &str, bytes: &[u8]) -> Result<(), Failure> {
    let failed = |e: std::io::Error| Failure::Failed(format!("--output {path}: {e}"));
    let target = Path::new(path);
    let name = target.file_name().ok_or_else(|| Failure::Usage(format!("--output `{path}`: not a file name")))?;
    let mut temporary_name = std::ffi::OsString::from(".");
    temporary_name.push(name);
    temporary_name.push(format!(".{}.partial", std::process::id()));
    let temporary = target.with_file_name(temporary_name);
    let written = std::fs::write(&temporary, bytes).and_then(|()| std::fs::rename(&temporary, target));
    if written.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    written.map_err(failed)
}

/// Each image's `k` highest scores, best first. Logits get their softmax beside them; a
/// network that ends in a softmax already outputs probabilities.
fn print_top(graph: &Graph, output: &[f32], batch: usize, k: usize) {
    let classes = graph.output().len();
    let probabilities = matches!(graph.nodes.last().map(|n| n.op), Some(Op::Softmax));
    let softmax = reference::softmax(batch, classes, output).expect("the output holds batch x classes");
    for (image, (scores, softmax)) in output.chunks_exact(classes).zip(softmax.chunks_exact(classes)).enumerate() {
        let mut order: Vec<usize> = (0..classes).collect();
        order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
        println!("image {image}:");
        if probabilities {
            println!("  {:>4} {:>7} {:>12}", "rank", "class", "probability");
        } else {
            println!("  {:>4} {:>7} {:>12} {:>9}", "rank", "class", "logit", "softmax");
        }
        for (rank, &class) in order.iter().take(k).enumerate() {
            if probabilities {
                println!("  {:>4} {class:>7} {:>12.6}", rank + 1, scores[class]);
            } else {
                println!("  {:>4} {class:>7} {:>12.4} {:>9.6}", rank + 1, scores[class], softmax[class]);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unravel_is_c_order() {
        assert_eq!(unravel(0, &[2, 3, 4]), vec![0, 0, 0]);
        assert_eq!(unravel(23, &[2, 3, 4]), vec![1, 2, 3]);
        assert_eq!(unravel(13, &[2, 3, 4]), vec![1, 0, 1]);
    }
}
