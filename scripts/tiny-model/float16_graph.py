# Converts a float32 ONNX model to float16, as Hugging Face's exports do for their *_fp16.onnx
# files: every float32 weight, constant and Cast target becomes float16. Two styles of interface
# exist among published exports, and findimage must run both (tower-runner.ts):
#   keep_io_types=False  the graph's float inputs and outputs are float16 too (the caller converts);
#   keep_io_types=True   a Cast at each float input and output keeps them float32.
# Used by scripts/build-tiny-model.py and scripts/build-tiny-siglip-model.py for the tiny models'
# fp16 twins. Needs only onnx and numpy (Debian's python3-onnx).

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

FLOAT16_MAX = float(np.finfo(np.float16).max)


def _half(tensor):
    """A float32 TensorProto as float16, clipped to float16's range."""
    array = numpy_helper.to_array(tensor).astype(np.float32)
    return numpy_helper.from_array(np.clip(array, -FLOAT16_MAX, FLOAT16_MAX).astype(np.float16), tensor.name)


def _convert_graph(graph):
    for index, initializer in enumerate(graph.initializer):
        if initializer.data_type == TensorProto.FLOAT:
            graph.initializer[index].CopyFrom(_half(initializer))
    for node in graph.node:
        for attribute in node.attribute:
            if attribute.type == onnx.AttributeProto.TENSOR and attribute.t.data_type == TensorProto.FLOAT:
                attribute.t.CopyFrom(_half(attribute.t))
            if node.op_type == "Cast" and attribute.name == "to" and attribute.i == TensorProto.FLOAT:
                attribute.i = TensorProto.FLOAT16
            if attribute.type == onnx.AttributeProto.GRAPH:
                _convert_graph(attribute.g)
    # Shapes inferred for float32 would now be wrong; ONNX Runtime infers them again.
    del graph.value_info[:]


def _cast_interface(graph):
    """Casts float32 inputs to float16 on entry and float16 outputs back to float32 on exit."""
    casts_in = []
    for graph_input in graph.input:
        if graph_input.type.tensor_type.elem_type != TensorProto.FLOAT:
            continue
        name, half = graph_input.name, graph_input.name + "_fp16"
        for node in graph.node:
            node.input[:] = [half if value == name else value for value in node.input]
        casts_in.append(helper.make_node("Cast", [name], [half], name=name + "_to_fp16", to=TensorProto.FLOAT16))
    for graph_output in graph.output:
        if graph_output.type.tensor_type.elem_type != TensorProto.FLOAT:
            continue
        name, half = graph_output.name, graph_output.name + "_fp16"
        # The producer writes the float16 value, and so reads every node that used the output.
        for node in graph.node:
            node.output[:] = [half if value == name else value for value in node.output]
            node.input[:] = [half if value == name else value for value in node.input]
        graph.node.append(helper.make_node("Cast", [half], [name], name=name + "_to_fp32", to=TensorProto.FLOAT))
    for cast in reversed(casts_in):
        graph.node.insert(0, cast)


def _retype_interface(graph):
    """Declares the graph's float inputs and outputs as float16."""
    for value in list(graph.input) + list(graph.output):
        if value.type.tensor_type.elem_type == TensorProto.FLOAT:
            value.type.tensor_type.elem_type = TensorProto.FLOAT16


def to_float16(model, keep_io_types):
    """A float16 copy of `model` (a ModelProto); see the file's first comment for keep_io_types."""
    converted = onnx.ModelProto()
    converted.CopyFrom(model)
    _convert_graph(converted.graph)
    if keep_io_types:
        _cast_interface(converted.graph)
    else:
        _retype_interface(converted.graph)
    onnx.checker.check_model(converted, full_check=True)
    return converted
