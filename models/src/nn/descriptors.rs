//! Kernel descriptors for graph nodes at a given batch size.

use super::graph::{ConvSpec, Graph, Node, PoolSpec, Shape};
use ferrocnn_kernels::{Conv2dDesc, Padding2d, Pool2dDesc};

pub fn padding([top, left, bottom, right]: [usize; 4]) -> Padding2d {
    Padding2d { top, bottom, left, right }
}

pub fn conv_desc(c: &ConvSpec, batch: usize, x: Shape) -> Conv2dDesc {
    Conv2dDesc {
        batch,
        in_channels: x.channels,
        out_channels: c.out_channels,
        in_h: x.height,
        in_w: x.width,
        kernel_h: c.kernel[0],
        kernel_w: c.kernel[1],
        stride_h: c.stride[0],
        stride_w: c.stride[1],
        padding: padding(c.padding),
        dilation_h: c.dilation[0],
        dilation_w: c.dilation[1],
        groups: c.groups,
    }
}

pub fn pool_desc(p: &PoolSpec, batch: usize, x: Shape) -> Pool2dDesc {
    Pool2dDesc {
        kind: p.kind,
        batch,
        channels: x.channels,
        in_h: x.height,
        in_w: x.width,
        kernel_h: p.kernel[0],
        kernel_w: p.kernel[1],
        stride_h: p.stride[0],
        stride_w: p.stride[1],
        padding: padding(p.padding),
        dilation_h: p.dilation[0],
        dilation_w: p.dilation[1],
        ceil_mode: p.ceil_mode,
        count_include_pad: p.count_include_pad,
    }
}

/// The shape flowing into input `i` of `node`.
pub fn input_shape(graph: &Graph, node: &Node, i: usize) -> Shape {
    graph.nodes[node.inputs[i]].shape
}
