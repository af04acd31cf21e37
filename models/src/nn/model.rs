//! What a `#[network]` struct holds: its graph, its weights, and the programs compiled from
//! them, one per batch size in use.

use super::error::Error;
use super::graph::Graph;
use super::program::Program;
use super::reference::{ReferenceReport, check_against_reference};
use super::summary::Summary;
use super::weights::Weights;
use ferrocnn_kernels::{Algo, PlanOptions};
use std::path::Path;

/// Compiled programs kept at once: each holds its own packed weights.
const KEPT_PROGRAMS: usize = 2;

pub struct Model {
    graph: Graph,
    weights: Weights,
    options: PlanOptions,
    conv_algo: Algo,
    /// Most recently used first.
    programs: Vec<Program>,
}

impl Model {
    pub fn new(graph: Graph, weights: Weights) -> Model {
        Model { graph, weights, options: PlanOptions::default(), conv_algo: Algo::Auto, programs: Vec::new() }
    }

    pub fn random(graph: Graph, seed: u64) -> Model {
        Model::new(graph, Weights::random(&graph, seed))
    }

    pub fn from_safetensors_bytes(graph: Graph, bytes: &[u8]) -> Result<Model, Error> {
        Ok(Model::new(graph, Weights::from_safetensors_bytes(&graph, bytes)?))
    }

    pub fn from_safetensors(graph: Graph, path: &Path) -> Result<Model, Error> {
        let bytes = std::fs::read(path).map_err(|source| Error::Io { path: path.to_path_buf(), source })?;
        Model::from_safetensors_bytes(graph, &bytes)
    }

    pub fn graph(&self) -> &Graph {
        &self.graph
    }

    pub fn weights(&self) -> &Weights {
        &self.weights
    }

    /// Changing weights drops the compiled programs, which hold packed copies.
    pub fn weights_mut(&mut self) -> &mut Weights {
        self.programs.clear();
        &mut self.weights
    }

    pub fn options(&self) -> PlanOptions {
        self.options
    }

    /// Threads and instruction set for the kernels; recompiles on the next forward.
    pub fn set_options(&mut self, options: PlanOptions) {
        self.options = options;
        self.programs.clear();
    }

    pub fn conv_algo(&self) -> Algo {
        self.conv_algo
    }

    /// The convolution algorithm for every layer it applies to (`Algo::Auto`'s choice on
    /// the rest); recompiles on the next forward.
    pub fn set_conv_algo(&mut self, algo: Algo) {
        self.conv_algo = algo;
        self.programs.clear();
    }

    /// The program for `batch`, compiled on first use (and the slot most recently used).
    pub fn program(&mut self, batch: usize) -> Result<&mut Program, Error> {
        cached_program(&mut self.programs, &self.graph, &self.weights, (self.options, self.conv_algo), batch)
    }

    /// `batch` images in, `batch` outputs out. Compiles on the first call for a batch size;
    /// afterwards allocates nothing.
    pub fn forward(&mut self, input: &[f32], batch: usize) -> Result<&[f32], Error> {
        self.program(batch)?.run(input)
    }

    /// The program for `batch` alone, built as the weights are released layer by layer:
    /// for a process that runs one batch size and wants one copy of the weights in memory.
    pub fn into_program(self, batch: usize) -> Result<Program, Error> {
        Program::from_weights(&self.graph, self.weights, batch, self.options, self.conv_algo)
    }

    pub fn summary(&self) -> Summary {
        Summary::new(&self.graph, &self.weights)
    }

    /// Runs `input` both through the compiled, fused program and, layer by layer, through
    /// `ferrocnn_kernels::reference` unfused; compares every step's output with the
    /// reference value of the layer it completes. Errors are relative to the largest
    /// magnitude of that reference value.
    pub fn check_against_reference(
        &mut self,
        input: &[f32],
        batch: usize,
        tolerance: f32,
    ) -> Result<ReferenceReport, Error> {
        let program =
            cached_program(&mut self.programs, &self.graph, &self.weights, (self.options, self.conv_algo), batch)?;
        check_against_reference(&self.graph, &self.weights, program, input, tolerance)
    }
}

/// Borrows only the program cache mutably, so the caller may read the weights alongside.
fn cached_program<'p>(
    programs: &'p mut Vec<Program>,
    graph: &Graph,
    weights: &Weights,
    (options, conv_algo): (PlanOptions, Algo),
    batch: usize,
) -> Result<&'p mut Program, Error> {
    match programs.iter().position(|p| p.batch() == batch) {
        Some(0) => {}
        Some(i) => {
            let p = programs.remove(i);
            programs.insert(0, p);
        }
        None => {
            let p = Program::new(graph, weights, batch, options, conv_algo)?;
            programs.truncate(KEPT_PROGRAMS - 1);
            programs.insert(0, p);
        }
    }
    Ok(&mut programs[0])
}
