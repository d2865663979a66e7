"""PyTorch reference outputs for `npm run bench`, made once with Debian's python3-torch and the
shared FUNIT tools (funit_torch.py, safetensors_lite.py); the bench itself never runs Python.

  /usr/bin/python3 bench/models/make_reference.py --tools bench/models/torch-tools hangul64
      -> bench/models/hangul64-k1n1.safetensors: content glyph 0 and class glyph 0 of the
         NanumBrush fixture and the generator's output for K = 1, N = 1 (committed).
  /usr/bin/python3 bench/models/make_reference.py --tools bench/models/torch-tools animals bench/models/animals128
      (bench/make-animals.sh runs this) reads gen_test.safetensors and inputs.safetensors written
      by the bench (bench/models/animals.ts), and writes model.onnx (the same weights, for the
      onnxruntime-web peer) and k1n1.safetensors / k5n16.safetensors (inputs and output).
"""
import argparse, json, os, sys
import torch


def load_generator(tools, path):
    from funit_torch import FewShotGen
    from safetensors_lite import load_safetensors
    tensors, meta = load_safetensors(path)
    g = FewShotGen(**json.loads(meta["gen"]))
    missing, unexpected = g.load_state_dict(tensors, strict=False)
    # Only the AdaIN running statistics, which FUNIT never uses, may be absent.
    assert not unexpected and all(k.endswith(("running_mean", "running_var")) for k in missing), (missing, unexpected)
    return g.eval()


def write_case(path, g, content, class_images):
    from safetensors_lite import save_safetensors
    with torch.no_grad():
        out = g(content, class_images)
    save_safetensors(path, {"content": content, "class_images": class_images, "output": out},
                     {"format": "funit-bench-reference/1", "made_by": "bench/models/make_reference.py", "torch": torch.__version__})
    print("wrote", path, tuple(out.shape))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tools", required=True, help="folder holding funit_torch.py and safetensors_lite.py")
    ap.add_argument("model", choices=["hangul64", "animals"])
    ap.add_argument("dir", nargs="?", default="bench/models/animals128")
    a = ap.parse_args()
    sys.path.insert(0, os.path.abspath(a.tools))
    from safetensors_lite import load_safetensors
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    if a.model == "hangul64":
        g = load_generator(a.tools, "test/fixtures/hangul64/gen_test.safetensors")
        ref, _ = load_safetensors("test/fixtures/hangul64/NanumBrush.safetensors")
        write_case("bench/models/hangul64-k1n1.safetensors", g, ref["content"][:1].clone(), ref["class_images"][:1].clone())
        return
    g = load_generator(a.tools, os.path.join(a.dir, "gen_test.safetensors"))
    inputs, _ = load_safetensors(os.path.join(a.dir, "inputs.safetensors"))
    content, class_images = inputs["content"], inputs["class_images"]
    size = content.shape[-1]
    onnx_path = os.path.join(a.dir, "model.onnx")
    # As the shared export_onnx.py does: opset 13, N and K dynamic.
    torch.onnx.export(g, (torch.zeros(1, 3, size, size), torch.zeros(2, 3, size, size)), onnx_path,
                      input_names=["content", "class_images"], output_names=["output"],
                      dynamic_axes={"content": {0: "n"}, "class_images": {0: "k"}, "output": {0: "n"}}, opset_version=13)
    print("wrote", onnx_path, os.path.getsize(onnx_path) // 1024, "KiB")
    write_case(os.path.join(a.dir, "k1n1.safetensors"), g, content[:1].clone(), class_images[:1].clone())
    write_case(os.path.join(a.dir, "k5n16.safetensors"), g, content.clone(), class_images.clone())


if __name__ == "__main__":
    main()
