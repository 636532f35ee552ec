import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { ConfigStore, rawDocument, trustedDocument } from '../../src/agent/store';
import { validateDocument } from '../../src/models/document';
import { defaultRegistry } from '../../src/descriptors';
import { encodeCbor } from '../../src/transport/codec';
import { baseDoc, makeAgent, tempDir } from './fixture';

describe('agent config store', () => {
  const registry = defaultRegistry();

  it('validation is idempotent, so a persisted (validated) document is still a valid document', () => {
    const doc = baseDoc(3);
    doc.items['interfaces/wan0.7'] = { type: 'sub-interface', parent: 'wan0', vlan: 7, mac: '02:AA:00:00:00:07' };
    const once = rawDocument(validateDocument(doc, registry));
    const twice = rawDocument(validateDocument(once, registry));
    assert.deepEqual(twice, once);
    assert.deepEqual(trustedDocument(once, registry), validateDocument(once, registry));
  });

  it('an agent that cannot save says so in its state, and still applies', () => {
    const blocker = path.join(tempDir(), 'not-a-dir');
    fs.writeFileSync(blocker, 'a file where the state directory should be');
    const a = makeAgent({ stateDir: blocker });
    try {
      a.boot();
      (a as unknown as { onMessage(m: unknown): void }).onMessage({ topic: a.topics.deviceConfig, payload: encodeCbor(baseDoc(2)), retained: false });
      const s = a.report();
      assert.equal(s.version, 2);
      assert.match(s.persistError ?? '', /not-a-dir/);
    } finally {
      a.closeDataplane();
    }
  });

  it('round-trips atomically and trusts only its own intact file', () => {
    const dir = tempDir();
    const doc = rawDocument(validateDocument(baseDoc(4), registry));
    const store = new ConfigStore(dir, '1.2.3');
    assert.equal(store.load(), undefined);
    store.save({ document: doc, sources: [{ source: 'device', version: 4, sha256: 'ab' }], savedAt: '2026-11-25T00:00:00.000Z' });
    assert.deepEqual(fs.readdirSync(dir), ['config.json'], 'no temporary file left');
    const l = store.load()!;
    assert.equal(l.trusted, true);
    assert.deepEqual(l.saved.document, doc);
    assert.equal(l.saved.sources[0]!.version, 4);
    assert.equal(new ConfigStore(dir, '1.2.4').load()!.trusted, false, 'another agent version checks it again');
    /* A hand edit: still loadable (the agent validates it), no longer trusted. */
    const file = path.join(dir, 'config.json');
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('"mtu":9000', '"mtu":9001'));
    const edited = store.load()!;
    assert.equal(edited.trusted, false);
    assert.equal((edited.saved.document.items['interfaces/wan0'] as { mtu: number }).mtu, 9001);
    fs.writeFileSync(file, 'garbage');
    assert.throws(() => store.load(), /STORE_CORRUPT|not a saved configuration/);
  });
});
