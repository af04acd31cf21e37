"""Derives the Winograd F(m, 3) transforms from their interpolation points and prints them
as the Rust constants of kernels/src/conv/winograd/matrices.rs.

Cook-Toom construction (Lavin & Gray 2016, Sec. 4; the wincnn convention): with finite
points p_0..p_{n-2} and the point at infinity, n = m + 2,
  AT[j][i] = p_i^j            (last column: 1 in the last row),
  G[i][k]  = p_i^k / f_i,  f_i = prod_{j != i} (p_i - p_j)   (last row: 0 .. 0 1),
and BT is the unique matrix for which AT [(G g) * (BT d)] = correlation(d, g) for all d, g,
solved here exactly in rationals. Run: python3 tools/winograd/matrices.py
"""

import sympy as sp

R = 3
POINTS = {
    2: [0, 1, -1],
    4: [0, 1, -1, 2, -2],
    6: [0, 1, -1, 2, -2, sp.Rational(1, 2), -sp.Rational(1, 2)],
}


def matrices(m, points):
    n = m + R - 1
    pts = [sp.Rational(p) for p in points]
    assert len(pts) == n - 1
    at = sp.zeros(m, n)
    for j in range(m):
        for i, p in enumerate(pts):
            at[j, i] = p**j
    at[m - 1, n - 1] = 1
    g = sp.zeros(n, R)
    for i, p in enumerate(pts):
        f = sp.prod([p - q for q in pts if q != p])
        for k in range(R):
            g[i, k] = p**k / f
    g[n - 1, R - 1] = 1
    bt = sp.zeros(n, n)
    for col in range(n):
        rows, rhs = [], []
        for j in range(m):
            for k in range(R):
                rows.append([at[j, i] * g[i, k] for i in range(n)])
                rhs.append(1 if col == j + k else 0)
        sol = sp.Matrix(rows).solve_least_squares(sp.Matrix(rhs))
        assert sp.Matrix(rows) * sol == sp.Matrix(rhs), "inconsistent"
        for i in range(n):
            bt[i, col] = sol[i]
    return at, g, bt


def rust(name, mat):
    rows = []
    for i in range(mat.rows):
        vals = []
        for j in range(mat.cols):
            v = sp.nsimplify(mat[i, j])
            vals.append(f"{float(v)!r}" if v.q != 1 else f"{int(v)}.0")
        rows.append("    [" + ", ".join(vals) + "],")
    return f"const {name}: [[f64; {mat.cols}]; {mat.rows}] = [\n" + "\n".join(rows) + "\n];"


for m, pts in POINTS.items():
    at, g, bt = matrices(m, pts)
    print(f"// F({m}x{m}, 3x3), points {pts} and infinity.")
    print(rust(f"F{m}_BT", bt))
    print(rust(f"F{m}_G", g))
    print(rust(f"F{m}_AT", at))
    print()
