//! NumPy's `.npy` files of little-endian float32 in C order: what `ferrocnn run` reads and
//! writes and what the zoo's fixtures are stored in (format versions 1.0, 2.0 and 3.0, as
//! `numpy.save` writes them).
//!
//! Anything else — another dtype, Fortran order, a header that does not parse, data shorter
//! or longer than the shape — is an error that says which and gives the numbers.

use std::fmt;

const MAGIC: &[u8] = b"\x93NUMPY";

/// A float32 array and its shape.
#[derive(Debug, Clone, PartialEq)]
pub struct Array {
    pub shape: Vec<usize>,
    pub data: Vec<f32>,
}

/// Why bytes are not an array this module reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NpyError(pub String);

impl fmt::Display for NpyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for NpyError {}

fn error<T>(msg: impl Into<String>) -> Result<T, NpyError> {
    Err(NpyError(msg.into()))
}

/// Parses a whole `.npy` file.
pub fn read(bytes: &[u8]) -> Result<Array, NpyError> {
    if bytes.len() < MAGIC.len() + 2 || &bytes[..MAGIC.len()] != MAGIC {
        return error("not a .npy file: it does not start with \\x93NUMPY");
    }
    let major = bytes[6];
    let (len_bytes, utf8) = match major {
        1 => (2, false),
        2 => (4, false),
        3 => (4, true),
        v => return error(format!("npy format version {v} is not one of 1, 2, 3")),
    };
    let start = 8 + len_bytes;
    if bytes.len() < start {
        return error(format!("the file ends inside its header ({} bytes)", bytes.len()));
    }
    let header_len = bytes[8..start].iter().rev().fold(0usize, |n, &b| (n << 8) | usize::from(b));
    let Some(header) = bytes.get(start..start.saturating_add(header_len)) else {
        return error(format!(
            "the header says it is {header_len} bytes but the file has {} after the preamble",
            bytes.len() - start
        ));
    };
    // Versions 1 and 2 are latin-1; every valid header is ASCII, so anything else is damage.
    let Some(header) = std::str::from_utf8(header).ok().filter(|h| utf8 || h.is_ascii()) else {
        return error("the header is not text");
    };
    let descr = dict_value(header, "descr")?;
    if descr != "'<f4'" {
        return error(format!("dtype {descr} is not float32 little-endian ('<f4'); convert with .astype('<f4')"));
    }
    match dict_value(header, "fortran_order")? {
        "False" => {}
        "True" => return error("the array is in Fortran order; save it with np.ascontiguousarray"),
        other => return error(format!("fortran_order is {other}, not True or False")),
    }
    let shape = parse_shape(dict_value(header, "shape")?)?;
    let count = shape
        .iter()
        .try_fold(1usize, |n, &d| n.checked_mul(d))
        .filter(|n| n.checked_mul(4).is_some())
        .ok_or_else(|| NpyError(format!("shape {shape:?} has more elements than memory can hold")))?;
    let body = &bytes[start + header_len..];
    if body.len() != count * 4 {
        return error(format!(
            "shape {shape:?} needs {count} floats ({} bytes) but the file holds {} bytes of data",
            count * 4,
            body.len()
        ));
    }
    let data = body.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
    Ok(Array { shape, data })
}

/// The `.npy` bytes (version 1.0) of a float32 array of `shape`; `Err` if `data` does not
/// hold the shape's element count.
pub fn write(shape: &[usize], data: &[f32]) -> Result<Vec<u8>, NpyError> {
    let count = shape.iter().try_fold(1usize, |n, &d| n.checked_mul(d));
    if count != Some(data.len()) {
        return error(format!("shape {shape:?} does not hold the {} floats given", data.len()));
    }
    let dims: Vec<String> = shape.iter().map(usize::to_string).collect();
    let shape_text = if dims.len() == 1 { format!("({},)", dims[0]) } else { format!("({})", dims.join(", ")) };
    let mut header = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': {shape_text}, }}");
    // numpy pads the header with spaces and a newline so the data starts 64-byte aligned.
    let unpadded = MAGIC.len() + 2 + 2 + header.len() + 1;
    header.push_str(&" ".repeat(unpadded.next_multiple_of(64) - unpadded));
    header.push('\n');
    let Ok(header_len) = u16::try_from(header.len()) else {
        return error(format!("a {}-dimensional shape's header does not fit format 1.0", shape.len()));
    };
    let mut out = Vec::with_capacity(MAGIC.len() + 4 + header.len() + data.len() * 4);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&[1, 0]);
    out.extend_from_slice(&header_len.to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    data.iter().for_each(|v| out.extend_from_slice(&v.to_le_bytes()));
    Ok(out)
}

/// The text of `key`'s value in the header's Python dict literal, up to its comma or brace
/// (a shape's tuple whole).
fn dict_value<'a>(header: &'a str, key: &str) -> Result<&'a str, NpyError> {
    let quoted = [format!("'{key}'"), format!("\"{key}\"")];
    let Some(at) = quoted.iter().find_map(|q| header.find(q.as_str()).map(|i| i + q.len())) else {
        return error(format!("the header has no '{key}': {header:?}"));
    };
    let rest = header[at..].trim_start();
    let Some(rest) = rest.strip_prefix(':') else {
        return error(format!("'{key}' is not followed by ':' in the header"));
    };
    let rest = rest.trim_start();
    let end = if rest.starts_with('(') { rest.find(')').map(|i| i + 1) } else { rest.find([',', '}']) };
    match end {
        Some(end) => Ok(rest[..end].trim()),
        None => error(format!("'{key}' has no end in the header")),
    }
}

fn parse_shape(text: &str) -> Result<Vec<usize>, NpyError> {
    let inner = text.strip_prefix('(').and_then(|t| t.strip_suffix(')'));
    let Some(inner) = inner else {
        return error(format!("shape {text} is not a tuple"));
    };
    inner
        .split(',')
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .map(|d| d.parse::<usize>().map_err(|_| NpyError(format!("shape {text}: `{d}` is not a dimension"))))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_shapes_of_every_rank() {
        for shape in [vec![], vec![3], vec![1, 1000], vec![2, 3, 4, 5]] {
            let n: usize = shape.iter().product();
            let data: Vec<f32> = (0..n).map(|i| i as f32 * 0.5 - 1.0).collect();
            let bytes = write(&shape, &data).unwrap();
            // numpy's alignment: the data starts on a 64-byte boundary.
            assert_eq!((bytes.len() - 4 * n) % 64, 0);
            assert_eq!(read(&bytes), Ok(Array { shape, data }));
        }
    }

    #[test]
    fn reads_what_numpy_writes() {
        // np.save(f, np.array([[1.5, -2.0]], dtype='<f4')), byte for byte.
        let mut bytes = b"\x93NUMPY\x01\x00v\x00{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2), }".to_vec();
        bytes.extend(std::iter::repeat_n(b' ', 58));
        bytes.push(b'\n');
        bytes.extend([1.5f32, -2.0].iter().flat_map(|v| v.to_le_bytes()));
        assert_eq!(read(&bytes), Ok(Array { shape: vec![1, 2], data: vec![1.5, -2.0] }));
    }

    #[test]
    fn refuses_with_the_reason() {
        let good = write(&[2, 2], &[1.0; 4]).unwrap();
        assert!(write(&[2, 3], &[1.0; 4]).unwrap_err().0.contains("does not hold the 4 floats"));
        let message = |bytes: &[u8]| read(bytes).unwrap_err().0;
        assert!(message(&good[..good.len() - 1]).contains("needs 4 floats (16 bytes) but the file holds 15"));
        assert!(message(b"PK\x03\x04").contains("not a .npy file"));
        assert!(message(&good[..20]).contains("the header says it is"));
        let swap = |from: &str, to: &str| {
            let at = good.windows(from.len()).position(|w| w == from.as_bytes()).unwrap();
            [&good[..at], to.as_bytes(), &good[at + from.len()..]].concat()
        };
        assert!(message(&swap("<f4", "<f8")).contains("'<f8' is not float32"));
        assert!(message(&swap("False", "True ")).contains("Fortran order"));
        assert!(message(&swap("(2, 2)", "(2, x)")).contains("`x` is not a dimension"));
        assert!(message(&swap("(2, 2)", "(9999999999999, 9999999999999)")).contains("more elements"));
        let mut v9 = good.clone();
        v9[6] = 9;
        assert!(message(&v9).contains("version 9"));
    }
}
