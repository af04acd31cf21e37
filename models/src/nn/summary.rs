//! A torchsummary-style table: every layer with its kind, output shape, parameters and
//! MFLOPs, then totals and the memory a forward pass needs.

use super::graph::{Graph, Shape};
use super::layout::Layout;
use super::weights::Weights;
use std::fmt;

#[derive(Debug, Clone)]
pub struct SummaryRow {
    pub name: String,
    pub kind: String,
    pub shape: Shape,
    pub params: u64,
    pub flops: u64,
}

#[derive(Debug, Clone)]
pub struct Summary {
    pub title: String,
    pub rows: Vec<SummaryRow>,
    pub params: u64,
    pub flops: u64,
    pub weight_bytes: usize,
    /// Activations at batch 1 in the planned arena (buffers reused by liveness).
    pub activation_bytes: usize,
    /// Activations at batch 1 if every layer output had its own buffer.
    pub unshared_activation_bytes: usize,
}

impl Summary {
    pub fn new(graph: &Graph, weights: &Weights) -> Summary {
        let rows = graph
            .nodes
            .iter()
            .map(|n| SummaryRow {
                name: n.name.to_string(),
                kind: n.kind(),
                shape: n.shape,
                params: n
                    .params(graph)
                    .iter()
                    .filter(|p| p.trainable)
                    .map(|p| p.dims.iter().product::<usize>() as u64)
                    .sum(),
                flops: n.flops(graph),
            })
            .collect();
        let layout = Layout::new(graph, 1);
        Summary {
            title: graph.name.to_string(),
            rows,
            params: graph.params(),
            flops: graph.flops(),
            weight_bytes: weights.bytes(),
            activation_bytes: layout.arena_len * 4,
            unshared_activation_bytes: layout.unshared_len() * 4,
        }
    }
}

pub(crate) fn thousands(v: u64) -> String {
    let s = v.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn megabytes(bytes: usize) -> String {
    match bytes {
        b if b >= 1 << 20 => format!("{:.1} MiB", b as f64 / (1 << 20) as f64),
        b => format!("{:.1} KiB", b as f64 / 1024.0),
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name_w = self.rows.iter().map(|r| r.name.len()).max().unwrap_or(0).max(5);
        let kind_w = self.rows.iter().map(|r| r.kind.len()).max().unwrap_or(0).max(4);
        let line = "-".repeat(name_w + kind_w + 50);
        writeln!(f, "{}", self.title)?;
        writeln!(f, "{line}")?;
        writeln!(f, "{:name_w$}  {:kind_w$}  {:>14}  {:>12}  {:>10}", "layer", "kind", "output", "params", "MFLOPs")?;
        writeln!(f, "{line}")?;
        for r in &self.rows {
            writeln!(
                f,
                "{:name_w$}  {:kind_w$}  {:>14}  {:>12}  {:>10.1}",
                r.name,
                r.kind,
                r.shape.to_string(),
                thousands(r.params),
                r.flops as f64 / 1e6
            )?;
        }
        writeln!(f, "{line}")?;
        writeln!(f, "GFLOPs:      {:.3} per image (2 per multiply-add)", self.flops as f64 / 1e9)?;
        writeln!(f, "weights:     {}", megabytes(self.weight_bytes))?;
        writeln!(
            f,
            "activations: {} per image, planned ({} if every layer kept its output)",
            megabytes(self.activation_bytes),
            megabytes(self.unshared_activation_bytes)
        )?;
        // Last, and spelled as torchsummary prints it, for scripts that grep for it.
        write!(f, "Total params: {}", thousands(self.params))
    }
}

#[cfg(test)]
mod tests {
    use super::thousands;

    #[test]
    fn thousands_separators() {
        let cases = [(0, "0"), (999, "999"), (1000, "1,000"), (61_706, "61,706"), (25_557_032, "25,557,032")];
        for (value, text) in cases {
            assert_eq!(thousands(value), text);
        }
    }
}
