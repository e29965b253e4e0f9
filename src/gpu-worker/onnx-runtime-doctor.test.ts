// The doctor's CUDA check follows FINDIMAGE_DEVICE: cpu never touches CUDA; auto is fine on the
// CPU and only warns when an installed CUDA provider does not load; cuda:N fails unless a session
// really runs on that device. The runtime line names ONNX Runtime's version and its providers.
import { describe, expect, it } from 'vitest';
import type { Device } from '../config.js';
import { onnxRuntimeChecks, type OnnxRuntimeDoctorOptions } from './onnx-runtime-doctor.js';

async function cudaLine(options: OnnxRuntimeDoctorOptions) {
  const check = onnxRuntimeChecks(options).find((c) => c.name === 'cuda');
  return check?.run(new AbortController().signal);
}

const cuda1: Device = { kind: 'cuda', deviceId: 1 };
const refused = async () => {
  throw new Error('libcublasLt.so.13: cannot open shared object file\nmore native detail');
};

describe('the ONNX Runtime and CUDA checks', () => {
  it('names the runtime version and its execution providers', async () => {
    const check = onnxRuntimeChecks({ device: { kind: 'cpu' } }).find((c) => c.name === 'onnx runtime');
    const result = await check?.run(new AbortController().signal);
    expect(result).toEqual({ status: 'ok', summary: expect.stringMatching(/^ONNX Runtime 1\.\d+\.\d+; execution providers: cpu/) });
  });

  it('leaves CUDA alone on FINDIMAGE_DEVICE=cpu', async () => {
    expect(await cudaLine({ device: { kind: 'cpu' }, probeCuda: refused })).toMatchObject({ status: 'ok', summary: expect.stringContaining('cpu') });
  });

  it('fails cuda:N without the CUDA provider, and when its session does not load, with the first line of the reason', async () => {
    expect(await cudaLine({ device: cuda1, cudaLibraryPresent: false })).toMatchObject({ status: 'fail', summary: 'FINDIMAGE_DEVICE is cuda:1 but the CUDA execution provider is not installed' });
    const result = await cudaLine({ device: cuda1, cudaLibraryPresent: true, probeCuda: refused });
    expect(result).toMatchObject({ status: 'fail', summary: 'FINDIMAGE_DEVICE is cuda:1 and CUDA does not load: libcublasLt.so.13: cannot open shared object file' });
    expect(result?.action).toContain('FINDIMAGE_DEVICE=cpu');
  });

  it('warns on auto when an installed CUDA provider does not load (findimage falls back to the CPU)', async () => {
    expect(await cudaLine({ device: { kind: 'auto' }, cudaLibraryPresent: false })).toMatchObject({ status: 'ok' });
    expect(await cudaLine({ device: { kind: 'auto' }, cudaLibraryPresent: true, probeCuda: refused })).toMatchObject({ status: 'warn', summary: expect.stringContaining('falls back to the CPU') });
  });

  it('passes cuda:N once a session runs on that device', async () => {
    const probed: number[] = [];
    const result = await cudaLine({ device: cuda1, cudaLibraryPresent: true, probeCuda: async (id) => void probed.push(id) });
    expect(result).toEqual({ status: 'ok', summary: 'a session runs on CUDA device 1 (FINDIMAGE_DEVICE is cuda:1)' });
    expect(probed).toEqual([1]);
  });
});
