import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { SpecError } from '../../src/errors';
import { loadBoard } from '../../src/board/load';
import { validateBoard } from '../../src/board/schema';

const sim = () => JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', '..', 'board', 'sim.json'), 'utf8'));

function assertBadField(board: unknown, field: string) {
  assert.throws(
    () => validateBoard(board),
    (e: unknown) => e instanceof SpecError && e.code === 'BOARD_INVALID' && e.field === field,
  );
}

describe('board/load', () => {
  it('loads the sim board by name', () => {
    const b = loadBoard('sim');
    assert.equal(b.name, 'sim');
    assert.equal(b.arch, 'any');
    assert.equal(b.dataplane.variant, 'auto');
    assert.equal(b.ports[0]?.type, 'pg');
    assert.match((b.ports[0] as { stream: string }).stream, / if=pg0$/, 'the port name becomes the stream interface');
  });

  it('loads a board from a path and names the file in errors', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vecgate-'));
    const file = path.join(dir, 'b.json');
    try {
      fs.writeFileSync(file, JSON.stringify({ ...sim(), arch: 'sparc' }));
      assert.throws(() => loadBoard(file), (e: unknown) => e instanceof SpecError && e.field === 'arch' && e.message.includes(file));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names a missing board', () => {
    assert.throws(() => loadBoard('no-such-board'), {
      code: 'BOARD_NOT_FOUND',
      message: 'unknown board no-such-board (boards: arm64-neoverse, ppc64le-power9, rpi4, sim, x86-64-generic; or give a path to a board file)',
    });
    assert.throws(() => loadBoard('/nonexistent/b.json'), { code: 'BOARD_NOT_FOUND', message: /^board \/nonexistent\/b.json: cannot read/ });
  });

  it('names each bad field', () => {
    assertBadField({ ...sim(), name: 3 }, 'name');
    assertBadField({ ...sim(), colour: 'red' }, 'colour');
    assertBadField({ ...sim(), dataplane: { options: 5 } }, 'dataplane.options');
    assertBadField({ ...sim(), ports: {} }, 'ports');
    assertBadField({ ...sim(), ports: [{ type: 'wifi', name: 'w0' }] }, 'ports[0].type');
    assertBadField({ ...sim(), ports: [{ type: 'pg', name: 'pg0' }] }, 'ports[0].stream');
    assertBadField({ ...sim(), ports: [{ type: 'pg', name: 'pg0', stream: { name: 's', udp: { dport: -1 } } }] }, 'ports[0].stream.udp.dport');
    assertBadField({ ...sim(), ports: [sim().ports[0], sim().ports[0]] }, 'ports[1].name');
    assertBadField({ ...sim(), console: { tty: 7 } }, 'console.tty');
  });

  it('serialises a typed stream with the port as its interface', () => {
    const b = validateBoard({ ...sim(), ports: [{ type: 'pg', name: 'pg3', stream: { name: 's', size: 64 } }] });
    assert.equal((b.ports[0] as { stream: string }).stream, 'name=s if=pg3 size=64');
  });
});
