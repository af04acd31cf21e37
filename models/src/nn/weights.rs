//! The tensors a network loads, by state-dict name, checked against the graph.

use super::error::{Error, WeightProblem};
use super::graph::{Graph, Op};
use ferrocnn_kernels::random::SplitMix64;
use std::collections::HashMap;

/// PyTorch saves this counter with every batch-norm; inference has no use for it.
const IGNORED_SUFFIXES: &[&str] = &[".num_batches_tracked"];

#[derive(Debug, Clone, Default)]
pub struct Weights {
    tensors: HashMap<String, Vec<f32>>,
}

impl Weights {
    /// The tensor `name`; the graph's own names always exist once the weights are built.
    pub fn get(&self, name: &str) -> &[f32] {
        self.tensors.get(name).map_or(&[], |v| v.as_slice())
    }

    pub fn get_mut(&mut self, name: &str) -> Option<&mut Vec<f32>> {
        self.tensors.get_mut(name)
    }

    /// Moves tensor `name` out.
    pub(crate) fn take(&mut self, name: &str) -> Option<Vec<f32>> {
        self.tensors.remove(name)
    }

    /// Drops tensor `name` (a program built from owned weights frees each once packed).
    pub(crate) fn remove(&mut self, name: &str) {
        self.tensors.remove(name);
    }

    /// Bytes held.
    pub fn bytes(&self) -> usize {
        self.tensors.values().map(|v| v.len() * 4).sum()
    }

    /// Every tensor by name from safetensors `bytes`; F32 only. All mismatches against the
    /// graph are collected into one [`Error::Weights`].
    pub fn from_safetensors_bytes(graph: &Graph, bytes: &[u8]) -> Result<Weights, Error> {
        let file = safetensors::SafeTensors::deserialize(bytes).map_err(|e| Error::Format(e.to_string()))?;
        let specs = graph.param_specs();
        let mut problems = Vec::new();
        let mut tensors = HashMap::new();
        for spec in &specs {
            match file.tensor(&spec.name) {
                Err(_) => {
                    problems.push(WeightProblem::Missing { name: spec.name.clone(), expected: spec.dims.clone() })
                }
                Ok(view) if view.dtype() != safetensors::Dtype::F32 => problems
                    .push(WeightProblem::DType { name: spec.name.clone(), found: format!("{:?}", view.dtype()) }),
                Ok(view) if view.shape() != spec.dims.as_slice() => problems.push(WeightProblem::Shape {
                    name: spec.name.clone(),
                    expected: spec.dims.clone(),
                    found: view.shape().to_vec(),
                }),
                Ok(view) => {
                    let data: Vec<f32> =
                        view.data().chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
                    tensors.insert(spec.name.clone(), data);
                }
            }
        }
        let mut unexpected: Vec<WeightProblem> = file
            .iter()
            .filter(|(name, _)| {
                !IGNORED_SUFFIXES.iter().any(|s| name.ends_with(s)) && !specs.iter().any(|p| p.name == *name)
            })
            .map(|(name, view)| WeightProblem::Unexpected { name: name.to_string(), found: view.shape().to_vec() })
            .collect();
        unexpected.sort_by(|a, b| format!("{a}").cmp(&format!("{b}")));
        problems.extend(unexpected);
        if problems.is_empty() { Ok(Weights { tensors }) } else { Err(Error::Weights(problems)) }
    }

    /// Seeded weights that keep activations at their scale through any depth: conv and
    /// linear weights Kaiming-uniform (bound sqrt(6 / fan_in), the std of Kaiming-normal),
    /// biases within 0.1, batch-norm scale in [0.75, 1.25), shift and mean within 0.1,
    /// variance in [1, 1.5).
    ///
    /// Each tensor draws its own SplitMix64 stream, seeded with `seed` xor the FNV-1a hash
    /// of its name, and every value is one exact uniform times a constant in f32: a few
    /// lines of numpy rebuild the same bits in any order (`tools/fixtures/make_fixtures.py`,
    /// which fills PyTorch's models with them for the zoo's fixtures).
    pub fn random(graph: &Graph, seed: u64) -> Weights {
        let mut tensors = HashMap::new();
        for node in graph.nodes {
            for spec in node.params(graph) {
                let len: usize = spec.dims.iter().product();
                let mut rng = SplitMix64::new(seed ^ fnv1a(&spec.name));
                let mut uniform = move || rng.next_signed();
                let suffix = spec.name.rsplit('.').next().unwrap_or("");
                let data: Vec<f32> = match (node.op, suffix) {
                    (Op::BatchNorm { .. }, "weight") => (0..len).map(|_| 1.0 + 0.25 * uniform()).collect(),
                    (Op::BatchNorm { .. }, "running_var") => (0..len).map(|_| 1.0 + 0.5 * uniform().abs()).collect(),
                    (_, "bias" | "running_mean") => (0..len).map(|_| 0.1 * uniform()).collect(),
                    _ => {
                        let fan_in = spec.dims[1..].iter().product::<usize>().max(1);
                        let bound = (6.0 / fan_in as f64).sqrt() as f32;
                        (0..len).map(|_| bound * uniform()).collect()
                    }
                };
                tensors.insert(spec.name, data);
            }
        }
        Weights { tensors }
    }

    /// The weights as a safetensors file, in the graph's names and shapes.
    pub fn to_safetensors(&self, graph: &Graph) -> Result<Vec<u8>, Error> {
        let specs = graph.param_specs();
        let bytes: Vec<(String, Vec<usize>, Vec<u8>)> = specs
            .iter()
            .map(|s| (s.name.clone(), s.dims.clone(), self.get(&s.name).iter().flat_map(|v| v.to_le_bytes()).collect()))
            .collect();
        let views = bytes
            .iter()
            .map(|(name, dims, data)| {
                safetensors::tensor::TensorView::new(safetensors::Dtype::F32, dims.clone(), data)
                    .map(|v| (name.clone(), v))
                    .map_err(|e| Error::Format(e.to_string()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        safetensors::serialize(views, None).map_err(|e| Error::Format(e.to_string()))
    }
}

/// FNV-1a, 64-bit: a name's hash that Python computes in one loop.
fn fnv1a(name: &str) -> u64 {
    name.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3))
}
