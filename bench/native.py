"""Native OpenCV cross-check for bench/native.ts: the converted graph in the system's OpenCV DNN.

Usage (run with the Python that has cv2, e.g. Debian's python3-opencv under /usr/bin/python3):

    native.py MODEL.pb OUT_DIR RUNS THREADS INPUT.f32:N [INPUT.f32:N ...]

Each INPUT is N faces of raw little-endian float32 NHWC [N, 160, 160, 3] (what bench/forward.ts
feeds every engine). For every thread count in THREADS (comma-separated; 0 = OpenCV's default,
all cores) and every input: one untimed forward (OpenCV allocates and picks kernels on the first),
then RUNS timed forwards. The first run's output is written to OUT_DIR/native-bN.f32 ([N, 512]
float32) for native.ts to compare with OpenCV.js. Prints one JSON line on stdout; when cv2 or numpy
cannot be imported it prints {"skip": "<why>"} and exits 0 so the bench carries on.
"""
import json
import os
import platform
import sys
import time

SIZE = 160


def main(argv):
    if len(argv) < 6:
        sys.stderr.write(__doc__)
        return 2
    try:
        import cv2
        import numpy as np
    except ImportError as e:
        print(json.dumps({"skip": "cannot import cv2/numpy in %s: %s" % (sys.executable, e)}))
        return 0

    model, out_dir, runs, threads = argv[1], argv[2], int(argv[3]), [int(t) for t in argv[4].split(",")]
    inputs = []
    for spec in argv[5:]:
        path, n = spec.rsplit(":", 1)
        n = int(n)
        x = np.fromfile(path, dtype="<f4")
        if x.size != n * SIZE * SIZE * 3:
            raise SystemExit("Cannot read input: %s has %d values, %d faces need %d" % (path, x.size, n, n * SIZE * SIZE * 3))
        # OpenCV's TF importer takes NCHW blobs and maps TF's NHWC layers onto them itself.
        inputs.append((n, np.ascontiguousarray(x.reshape(n, SIZE, SIZE, 3).transpose(0, 3, 1, 2))))

    t = time.perf_counter()
    net = cv2.dnn.readNetFromTensorflow(model)
    import_ms = (time.perf_counter() - t) * 1000
    default_threads = cv2.getNumThreads()

    results = []
    for th in threads:
        cv2.setNumThreads(th if th > 0 else default_threads)
        for n, blob in inputs:
            net.setInput(blob)
            first = net.forward("embeddings")
            if th == threads[0]:
                np.ascontiguousarray(first, dtype="<f4").tofile(os.path.join(out_dir, "native-b%d.f32" % n))
            times = []
            for _ in range(runs):
                net.setInput(blob)
                t = time.perf_counter()
                net.forward("embeddings")
                times.append((time.perf_counter() - t) * 1000)
            results.append({
                "threads": cv2.getNumThreads(),
                "batch": n,
                "runsMs": [round(v, 2) for v in times],
                "medianMs": float(np.median(times)),
                "minMs": min(times),
                "shape": list(first.shape),
            })

    print(json.dumps({
        "opencv": cv2.__version__,
        "python": platform.python_version(),
        "executable": sys.executable,
        "defaultThreads": default_threads,
        "importMs": import_ms,
        "results": results,
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
