/* vecgate ota keygen|sign|verify|inspect: the operator's tools for OTA
 * bundles (src/ota/bundle.ts; the format in ota/README.md). One function
 * per subcommand in SUBCOMMANDS; the box's own (install, status, boot,
 * serve) are in ota-box.ts. */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';

import { PACKAGE_ROOT } from '../dataplane/paths';
import { UsageError, VecgateError } from '../errors';
import { decodeManifest, Manifest, MANIFEST } from '../image/manifest';
import { BoxFacts, BundleManifest, createBundle, inspectBundleFile, verifyBundleFile } from '../ota/bundle';
import { loadTrustAnchor, TrustAnchor } from '../transport/cose';
import { keygen } from './keygen';

type Subcommand = (args: string[]) => number | Promise<number>;

const SUBCOMMANDS: Readonly<Record<string, Subcommand>> = {
  keygen: (args) => keygen(args, 'ota keygen', 'give it to `ota verify --trust` and list it in the board\'s agent.trustAnchors'),
  sign,
  verify,
  inspect,
  /* On the box: loaded on use (the board, the boot chooser, the installer). */
  install: (args) => boxSubcommands().install(args),
  status: (args) => boxSubcommands().status(args),
  boot: (args) => boxSubcommands().boot(args),
  serve: (args) => boxSubcommands().serve(args),
};

const boxSubcommands = () => (require('./ota-box') as typeof import('./ota-box')).BOX_SUBCOMMANDS;

export async function otaCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === undefined || !Object.hasOwn(SUBCOMMANDS, sub))
    throw new UsageError(`ota needs ${Object.keys(SUBCOMMANDS).join(', ')}${sub ? `, not ${sub}` : ''}`);
  return SUBCOMMANDS[sub]!(rest);
}

const SIGN_USAGE =
  'ota sign (--image FILE | --board NAME [--images DIR]) --key KEY.pem --version V --security-version N ' +
  '[--boards a,b] [--arch A] [--chunk-size BYTES] [--kid ID] [--name NAME] --out FILE.vgb [--json]';

function uintOption(v: string, name: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(n)) throw new UsageError(`${name} must be an unsigned integer, not ${JSON.stringify(v)}`);
  return n;
}

function listOption(v: string | undefined): string[] | undefined {
  return v === undefined ? undefined : v.split(',').map((s) => s.trim()).filter(Boolean);
}

/* The image `vecgate image build --board B` left in DIR/B/: its squashfs and manifest.cbor. */
function builtImage(dir: string, board: string): { image: string; manifest: Manifest } {
  const build = `build it with \`vecgate image build --board ${board}\``;
  if (!fs.existsSync(dir)) throw new VecgateError('OTA_IMAGE_MISSING', `no image for board ${board}: ${dir} does not exist (${build})`);
  const images = fs.readdirSync(dir).filter((f) => f.endsWith('.squashfs'));
  const named = `vecgate-${board}.squashfs`;
  const pick = images.length === 1 ? images[0] : images.find((f) => f === named);
  if (!pick)
    throw new VecgateError(
      'OTA_IMAGE_MISSING',
      images.length ? `${dir} holds several images (${images.join(', ')}) and no ${named}` : `no *.squashfs in ${dir} (${build})`,
    );
  const file = path.join(dir, MANIFEST);
  let manifest: Manifest;
  try {
    manifest = decodeManifest(fs.readFileSync(file));
  } catch (e) {
    throw new VecgateError('OTA_IMAGE_MISSING', `${file}: cannot read the image's manifest: ${(e as Error).message}`);
  }
  if (typeof manifest?.arch !== 'string' || !Array.isArray(manifest.boards))
    throw new VecgateError('OTA_IMAGE_MISSING', `${file}: not an image manifest (no arch or boards)`);
  return { image: path.join(dir, pick), manifest };
}

function imageInfo(m: Manifest): BundleManifest['image'] {
  return {
    ...(typeof m.node?.version === 'string' ? { node: m.node.version } : {}),
    ...(Array.isArray(m.variants) ? { variants: m.variants } : {}),
    ...(typeof m.requires?.glibc === 'string' ? { glibc: m.requires.glibc } : {}),
  };
}

function privateKey(file: string): crypto.KeyObject {
  try {
    return crypto.createPrivateKey(fs.readFileSync(file));
  } catch (e) {
    throw new VecgateError('SIGNING_KEY_INVALID', `${file}: not a readable PEM private key: ${(e as Error).message}`);
  }
}

async function sign(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      image: { type: 'string' },
      board: { type: 'string' },
      images: { type: 'string' },
      key: { type: 'string' },
      version: { type: 'string' },
      'security-version': { type: 'string' },
      boards: { type: 'string' },
      arch: { type: 'string' },
      'chunk-size': { type: 'string' },
      kid: { type: 'string' },
      name: { type: 'string' },
      out: { type: 'string' },
      json: { type: 'boolean' },
    },
  });
  if (!values.key || !values.version || values['security-version'] === undefined || !values.out) throw new UsageError(SIGN_USAGE);
  if (!values.image === !values.board) throw new UsageError(`ota sign needs one of --image FILE and --board NAME: ${SIGN_USAGE}`);
  const securityVersion = uintOption(values['security-version'], '--security-version');
  const chunkSize = values['chunk-size'] !== undefined ? uintOption(values['chunk-size'], '--chunk-size') : undefined;
  let image = values.image!;
  let arch = values.arch;
  let boards = listOption(values.boards);
  let info: BundleManifest['image'];
  if (values.board) {
    const built = builtImage(path.resolve(values.images ?? path.join(PACKAGE_ROOT, 'out'), values.board), values.board);
    image = built.image;
    arch ??= built.manifest.arch;
    boards ??= built.manifest.boards;
    info = imageInfo(built.manifest);
  }
  if (!arch) throw new UsageError('ota sign --image needs --arch A (x86_64, arm64 or ppc64le)');
  if (!boards?.length) throw new UsageError('ota sign --image needs --boards a,b (the boards the image is for)');
  const r = await createBundle({
    image,
    out: values.out,
    key: privateKey(values.key),
    ...(values.kid !== undefined ? { kid: values.kid } : {}),
    ...(values.name !== undefined ? { name: values.name } : {}),
    version: values.version,
    securityVersion,
    arch,
    boards,
    ...(chunkSize !== undefined ? { chunkSize } : {}),
    ...(info ? { imageInfo: info } : {}),
  });
  if (values.json) process.stdout.write(JSON.stringify({ out: values.out, image, bytes: r.bytes, manifest: manifestJson(r.manifest) }) + '\n');
  else process.stdout.write(`signed ${image} -> ${values.out} (${r.bytes} bytes)\n${describeManifest(r.manifest)}`);
  return 0;
}

/* --trust PUB.pem or KID=PUB.pem, comma separated: a bundle signed with a kid needs an anchor with that kid. */
export function trustAnchors(list: string): TrustAnchor[] {
  const entries = listOption(list) ?? [];
  if (!entries.length) throw new UsageError('--trust needs at least one PUB.pem');
  return entries.map((entry) => {
    const m = /^([^=/]+)=(.+)$/.exec(entry);
    const file = m ? m[2]! : entry;
    return loadTrustAnchor(path.basename(file), file, m?.[1]);
  });
}

async function verify(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      trust: { type: 'string' },
      board: { type: 'string' },
      arch: { type: 'string' },
      'security-version': { type: 'string' },
      json: { type: 'boolean' },
    },
  });
  if (positionals.length !== 1 || !values.trust)
    throw new UsageError('ota verify FILE --trust [KID=]PUB.pem[,...] [--board B] [--arch A] [--security-version N] [--json]');
  const box: Partial<BoxFacts> = {
    ...(values.board !== undefined ? { board: values.board } : {}),
    ...(values.arch !== undefined ? { arch: values.arch } : {}),
    ...(values['security-version'] !== undefined ? { securityVersion: uintOption(values['security-version'], '--security-version') } : {}),
  };
  const file = positionals[0]!;
  const { head, bytes } = await verifyBundleFile(file, trustAnchors(values.trust), box);
  const checked = [
    ...(box.board !== undefined ? [`board ${box.board}`] : []),
    ...(box.arch !== undefined ? [`arch ${box.arch}`] : []),
    ...(box.securityVersion !== undefined ? [`security version ${box.securityVersion} or lower`] : []),
  ];
  if (values.json) {
    process.stdout.write(
      JSON.stringify({ file, verified: true, signer: head.signer, digest: head.digest.toString('hex'), headBytes: head.headBytes, bytes, box, manifest: manifestJson(head.manifest) }) + '\n',
    );
  } else {
    const m = head.manifest;
    process.stdout.write(
      `${file}: verified: signed by ${head.signer}; all ${m.payload.chunks.length} chunks and the payload's sha256 match` +
        (checked.length ? `; fits ${checked.join(', ')}` : '') +
        `\n${describeManifest(m)}`,
    );
  }
  return 0;
}

async function inspect(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { json: { type: 'boolean' } } });
  if (positionals.length !== 1) throw new UsageError('ota inspect FILE [--json]');
  const file = positionals[0]!;
  const head = await inspectBundleFile(file);
  if (values.json) {
    process.stdout.write(
      JSON.stringify({ file, signatureChecked: false, digest: head.digest.toString('hex'), headBytes: head.headBytes, ...(head.kid !== undefined ? { kid: head.kid } : {}), manifest: manifestJson(head.manifest) }) + '\n',
    );
  } else {
    process.stdout.write(
      `${file}: the signature was NOT checked (\`vecgate ota verify ${file} --trust PUB.pem\` checks it and every chunk)\n` +
        describeManifest(head.manifest) +
        `  head        ${head.headBytes} bytes, digest ${head.digest.toString('hex')}${head.kid !== undefined ? `, kid ${JSON.stringify(head.kid)}` : ''}\n`,
    );
  }
  return 0;
}

/* The manifest as JSON: byte strings in hex. */
export function manifestJson(m: BundleManifest): unknown {
  return {
    ...m,
    payload: { ...m.payload, sha256: m.payload.sha256.toString('hex'), chunks: m.payload.chunks.map((c) => c.toString('hex')) },
  };
}

function describeManifest(m: BundleManifest): string {
  const p = m.payload;
  const lines = [
    `  name        ${m.name}`,
    `  version     ${m.version} (security version ${m.securityVersion})`,
    `  arch        ${m.arch}`,
    `  boards      ${m.boards.join(', ')}`,
    `  payload     ${p.size} bytes, sha256 ${p.sha256.toString('hex')}`,
    `  chunks      ${p.chunks.length} of ${p.chunkSize} bytes`,
  ];
  if (m.image) {
    const i = m.image;
    lines.push(`  image       node ${i.node ?? '?'}, glibc ${i.glibc ?? '?'}, variants ${i.variants?.join(', ') ?? '?'}`);
  }
  return lines.join('\n') + '\n';
}
