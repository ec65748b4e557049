#!/usr/bin/env python3
"""Writes the small array files that tests/operators/test_array_io.cpp reads.

Every file holds the same reference array A of shape [2, 3, 4] with A[i, j, k] = 100 i + 10 j + k, so a reader
that mixes up the index order (C vs Fortran, MATLAB's column-major storage, h5py's reversed v7.3 shape) fails on
exact values. The .mat files also hold a cell, a struct and a string, which the reader must skip or refuse.

Requirements: numpy and torch (in the project's .venv) plus scipy and h5py, installed only to run this script:

    .venv/bin/pip install scipy h5py
    .venv/bin/python tests/data/operators/make_fixtures.py

The output is deterministic (fixed values, fixed MATLAB header text); rerunning it rewrites the same files, except
that torch.save and HDF5 may embed library-version details. Total size is well under 100 KB.
"""
from pathlib import Path

import h5py
import numpy as np
import scipy.io
import torch

HERE = Path(__file__).resolve().parent


def reference(dtype=np.float64):
    i, j, k = np.meshgrid(np.arange(2), np.arange(3), np.arange(4), indexing="ij")
    return (100 * i + 10 * j + k).astype(dtype)


def numpy_files(a):
    np.save(HERE / "grid_c.npy", a)
    np.save(HERE / "grid_fortran.npy", np.asfortranarray(a.astype(np.float32)))
    assert np.load(HERE / "grid_fortran.npy").flags.f_contiguous
    dtypes = {
        "f8": a,
        "f4": np.array([0.5, -1.25], dtype=np.float32),
        "f2": np.array([1.5], dtype=np.float16),
        "i1": np.array([-128, 127], dtype=np.int8),
        "i4": np.array([[1, -2, 3]], dtype=np.int32),
        "i8": np.array([-5, 2**40], dtype=np.int64),
        "u1": np.array([0, 255], dtype=np.uint8),
        "u2": np.array([65535], dtype=np.uint16),
        "b1": np.array([True, False, True]),
    }
    np.savez(HERE / "dtypes.npz", **dtypes)
    np.savez_compressed(HERE / "dtypes_deflated.npz", **dtypes)
    np.save(HERE / "bigendian.npy", np.array([1.0, 2.0], dtype=">f8"))
    np.save(HERE / "complex.npy", np.array([1 + 2j]))


def torch_files(a):
    t = torch.from_numpy(a)
    torch.save(t, HERE / "single.pt")
    torch.save({
        "a": t.float(),
        "ints": torch.tensor([1, 2, 3], dtype=torch.int32),
        "nested": {"b": torch.tensor([[1.0, 2.0]], dtype=torch.float64)},
        "list": [torch.tensor([7]), torch.tensor([8])],
        "note": "written by make_fixtures.py",
        "nu": 0.01,
    }, HERE / "tensors.pt")


def matlab_v5(a):
    scipy.io.savemat(HERE / "v5.mat", {
        "coeff": a,
        "single": a.astype(np.float32),
        "ints": np.array([[1, -2, 3]], dtype=np.int32),
        "flag": np.array([[True, False, True]]),
        "cell": np.array([np.array([1.0]), "x"], dtype=object),
        "record": {"f": 1.0},
        "text": "hello",
    }, do_compression=True)
    assert scipy.io.loadmat(HERE / "v5.mat")["coeff"].shape == (2, 3, 4)


def matlab_string(obj, name, text):
    # MATLAB (and matio) store "double" as a 6-byte string typed null-terminated, without room for the null;
    # h5py's attrs would write it null-padded, or truncate it to "doubl", and matio would misread the class.
    tid = h5py.h5t.C_S1.copy()
    tid.set_size(len(text))
    tid.set_strpad(h5py.h5t.STR_NULLTERM)
    attr = h5py.h5a.create(obj.id, name.encode(), tid, h5py.h5s.create(h5py.h5s.SCALAR))
    attr.write(np.array(text.encode(), dtype=f"S{len(text)}"), mtype=tid)


def matlab_v73(a):
    # MATLAB v7.3 is HDF5 behind a 512-byte user block with MATLAB's 128-byte header. Each variable is a dataset
    # with a MATLAB_class attribute, stored with its dimensions reversed (column-major): a MATLAB [2, 3, 4] array
    # is the HDF5 dataset [4, 3, 2] holding A.T. This is what MATLAB's save -v7.3 writes.
    path = HERE / "v73.mat"
    with h5py.File(path, "w", userblock_size=512) as f:
        for name, value, cls in [("coeff", a, "double"), ("single", a.astype(np.float32), "single"),
                                 ("flag", np.array([[1, 0, 1]], dtype=np.uint8), "logical")]:
            d = f.create_dataset(name, data=value.T)
            matlab_string(d, "MATLAB_class", cls)
            if cls == "logical":
                d.attrs["MATLAB_int_decode"] = np.int32(1)
    text = b"MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: Thu Jan  1 00:00:00 2026 HDF5 schema 1.00 ."
    header = text.ljust(116, b" ") + b" " * 8 + (0x0200).to_bytes(2, "little") + b"IM"
    with open(path, "r+b") as f:
        f.write(header)
    with h5py.File(path, "r") as f:  # what an h5py user sees: the reversed shape
        assert f["coeff"].shape == (4, 3, 2)


def hdf5_file(a):
    with h5py.File(HERE / "arrays.h5", "w") as f:
        f["a"] = a
        f["group/b"] = np.array([[1, 2], [3, 4]], dtype=np.int32)
        f["group/sub/c"] = np.array([0.25], dtype=np.float32)
        f["flag"] = np.array([True, False])
        f["names"] = np.array([b"x", b"y"])
        f.attrs["origin"] = "make_fixtures.py"
        f.attrs["count"] = 3


if __name__ == "__main__":
    a = reference()
    numpy_files(a)
    torch_files(a)
    matlab_v5(a)
    matlab_v73(a)
    hdf5_file(a)
    total = sum(p.stat().st_size for p in HERE.iterdir() if p.suffix != ".py")
    print(f"fixtures written to {HERE}, {total} bytes")
