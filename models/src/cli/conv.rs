use super::args::{Args, parse_dims, parse_usize};
use super::timing::{Budget, time};
use super::{pool, random_data};
use ferrocnn_kernels::{
    Activation, Algo, Conv2d, Conv2dDesc, Epilogue, Padding2d, PlanOptions, dispatch::active_isa, reference,
};

pub fn run(args: &Args) -> Result<(), String> {
    args.allow_only(&[
        "--input",
        "--out-channels",
        "--kernel",
        "--stride",
        "--pad",
        "--dilation",
        "--groups",
        "--algo",
        "--epilogue",
        "--threads",
        "--iters",
        "--check",
        "--json",
    ])?;
    let desc = desc_from(args)?;
    let algo = algo_named(args.str("--algo").unwrap_or("auto"))?;
    let iters = args.usize_or("--iters", 10)?;
    let (pool, threads) = pool(args)?;
    let shape = desc.validate().map_err(|e| format!("conv: {e}"))?;
    // Input, weights twice (given and packed), output, the reference's output with --check,
    // and scratch up to the padded input.
    let outputs = if args.flag("--check") { 2 } else { 1 };
    let floats = 2 * shape.input_len as u128 + 2 * shape.weight_len as u128 + outputs * shape.output_len as u128;
    super::check_memory("conv", floats)?;
    let input = random_data(shape.input_len, 1);
    let weights = super::kaiming_uniform(shape.weight_len, shape.reduction, 2);
    let epilogue = epilogue_from(args.str("--epilogue").unwrap_or(""), desc.out_channels)?;
    let residual = epilogue.residual.then(|| random_data(shape.output_len, 3));
    let options = PlanOptions { isa: active_isa(), threads };
    let plan =
        Conv2d::with_options(&desc, &weights, None, &epilogue, algo, options).map_err(|e| format!("conv: {e}"))?;
    let mut output = vec![0.0f32; shape.output_len];
    let mut scratch = vec![0.0f32; plan.scratch_len()];
    let timing = pool.install(|| {
        time(Budget::Runs(iters), || {
            plan.run(&input, residual.as_deref(), &mut output, &mut scratch)
                .expect("lengths come from the plan's shape")
        })
    });
    let flops = desc.flops().map_err(|e| format!("conv: {e}"))? as f64;
    let gflops = flops / (timing.median_ms * 1e6);
    let check = if args.flag("--check") {
        let mut want = reference::conv2d(&desc, &input, &weights, None).map_err(|e| format!("conv: {e}"))?;
        let plane = shape.out_h * shape.out_w;
        reference::apply_epilogue(desc.batch, desc.out_channels, plane, &mut want, &epilogue, residual.as_deref())
            .map_err(|e| format!("conv: {e}"))?;
        Some(reference::max_relative_error(&output, &want))
    } else {
        None
    };
    let (d, p) = (&desc, desc.padding);
    // Formatted once for both outputs.
    let input = format!("{}x{}x{}x{}", d.batch, d.in_channels, d.in_h, d.in_w);
    let kernel = format!("{}x{}", d.kernel_h, d.kernel_w);
    let stride = format!("{}x{}", d.stride_h, d.stride_w);
    let (isa, algo, family) = (plan.isa(), plan.algo(), plan.kernel_name());
    let (median, min, max) = (timing.median_ms, timing.min_ms, timing.max_ms);
    if args.flag("--json") {
        let check = check.map_or(String::new(), |e| format!(",\"max_rel_err\":{e:.3e}"));
        let pad = format!("{},{},{},{}", p.top, p.bottom, p.left, p.right);
        let dilation = format!("{}x{}", d.dilation_h, d.dilation_w);
        println!(
            "{{\"op\":\"conv\",\"input\":\"{input}\",\"out_channels\":{},\"kernel\":\"{kernel}\",\"stride\":\"{stride}\",\"pad\":\"{pad}\",\"dilation\":\"{dilation}\",\"groups\":{},\"isa\":\"{isa}\",\"threads\":{threads},\"algo\":\"{algo}\",\"kernel_family\":\"{family}\",\"median_ms\":{median:.4},\"min_ms\":{min:.4},\"max_ms\":{max:.4},\"gflops\":{gflops:.2}{check}}}",
            d.out_channels, d.groups
        );
    } else {
        let check = check.map_or(String::new(), |e| format!(", max rel err {e:.2e}"));
        println!(
            "conv {input} -> {}x{}x{} ({kernel} s{stride} g{}) isa={isa} threads={threads} algo={algo} [{family}]: median {median:.3} ms (min {min:.3}, max {max:.3}), {gflops:.1} GFLOP/s{check}",
            d.out_channels, shape.out_h, shape.out_w, d.groups
        );
    }
    Ok(())
}

fn desc_from(args: &Args) -> Result<Conv2dDesc, String> {
    let input = parse_dims("--input", args.required("--input")?, 4)?;
    let out_channels = args.usize("--out-channels")?;
    let kernel = args.required("--kernel")?;
    let (r, s) = match kernel.split_once('x') {
        Some(_) => {
            let rs = parse_dims("--kernel", kernel, 2)?;
            (rs[0], rs[1])
        }
        None => {
            let r = parse_usize("--kernel", kernel)?;
            (r, r)
        }
    };
    let padding = match args.str("--pad") {
        None => Padding2d::default(),
        Some(p) if p.contains(',') => {
            let v: Vec<usize> = p.split(',').map(|x| parse_usize("--pad", x)).collect::<Result<_, _>>()?;
            let [top, bottom, left, right] = v[..] else {
                return Err(format!("--pad: expected P or T,B,L,R, got `{p}`"));
            };
            Padding2d { top, bottom, left, right }
        }
        Some(p) => Padding2d::uniform(parse_usize("--pad", p)?),
    };
    Ok(Conv2dDesc::new(input[0], input[1], (input[2], input[3]), out_channels, (r, s))
        .stride(args.usize_or("--stride", 1)?)
        .dilation(args.usize_or("--dilation", 1)?)
        .groups(args.usize_or("--groups", 1)?)
        .padding(padding))
}

/// `--epilogue LIST`: a comma-separated subset of `scale`, `shift`, `residual` and one
/// activation (`relu`, `relu6`, `sigmoid`), fused as a network's layers fuse them (a folded
/// batch-norm is `scale,shift`); the vectors and the residual are random.
fn epilogue_from(list: &str, channels: usize) -> Result<Epilogue, String> {
    let mut epilogue = Epilogue::new();
    for part in list.split(',').filter(|p| !p.is_empty()) {
        epilogue = match part {
            "scale" => epilogue.scale(random_data(channels, 4)),
            "shift" => epilogue.shift(random_data(channels, 5)),
            "residual" => epilogue.residual(),
            "relu" => epilogue.activation(Activation::Relu),
            "relu6" => epilogue.activation(Activation::Relu6),
            "sigmoid" => epilogue.activation(Activation::Sigmoid),
            _ => {
                return Err(format!(
                    "--epilogue: expected a comma-separated list of scale, shift, residual, relu, relu6, sigmoid; got `{part}`"
                ));
            }
        };
    }
    Ok(epilogue)
}

/// `--algo NAME`, or an error that lists every name.
pub(super) fn algo_named(name: &str) -> Result<Algo, String> {
    Algo::from_name(name).ok_or_else(|| {
        let names: Vec<&str> = Algo::ALL.iter().map(|a| a.name()).collect();
        format!("--algo: expected one of {}, got `{name}`", names.join(", "))
    })
}
