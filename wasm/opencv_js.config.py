# White list of the OpenCV.js bindings built by wasm/build.sh (read by OpenCV's
# modules/js/generator/embindgen.py through build_js.py --config). Only what facenet-dnn's runtime
# calls, plus a few cheap neighbours; the C++ of the three modules is compiled whole either way.
# Always present besides these (modules/js/src/core_bindings.cpp and helpers.js): Mat and its
# methods, Size, Point, Rect, Scalar, the CV_* constants, matFromArray, matFromImageData,
# exceptionFromPtr, and Emscripten's FS (FS_createDataFile, FS_unlink).

core = {
    '': [
        'transpose', 'flip', 'split', 'merge', 'normalize', 'copyMakeBorder',
        'setNumThreads', 'getNumThreads',
        'setLogLevel', 'getLogLevel',
    ],
}

imgproc = {
    '': [
        'cvtColor', 'resize', 'warpAffine', 'getAffineTransform', 'getRotationMatrix2D',
    ],
}

dnn = {
    'dnn_Net': ['setInput', 'forward', 'setPreferableBackend', 'setPreferableTarget'],
    '': ['readNetFromTensorflow', 'readNetFromONNX', 'readNet', 'blobFromImage'],
}

white_list = makeWhiteList([core, imgproc, dnn])
