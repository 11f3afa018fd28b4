/** Loading the config file: a JSON error says where, never what the file says (it holds credentials). */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfigFile } from '../../lambdas/core/config.ts';
import { ConfigError } from '../../lambdas/core/errors.ts';

describe('loadConfigFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'callvault-config-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const attempt = async (text: string) => {
    const path = join(dir, 'broken.json');
    writeFileSync(path, text);
    return loadConfigFile(path).then(
      () => undefined,
      (error: Error) => error,
    );
  };

  it('never echoes the file text in a JSON parse error, and names the line and column when it can', async () => {
    // V8 quotes the text around an unexpected token; that text is a password here.
    const unquoted = await attempt('{"accounts": [{"auth": {"password": hunter2-secret}}]}');
    expect(unquoted).toBeInstanceOf(ConfigError);
    expect(unquoted?.message).toMatch(/is not valid JSON/);
    expect(unquoted?.message).not.toContain('hunter2');
    const positioned = await attempt('{"accounts": [\n  {"token": "hunter2-secret" "x"}]}');
    expect(positioned?.message).toMatch(/not valid JSON \(line 2, column \d+\)/);
    expect(positioned?.message).not.toContain('hunter2');
    const cut = await attempt('{"token": "hunter2-secret"');
    expect(cut?.message).toMatch(/\(line 1, column 27\)$/);
    expect((await attempt(''))?.message).toMatch(/unexpected end of file/);
  });
});
