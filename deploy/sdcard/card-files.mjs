import { basename } from 'node:path';
// deploy/sdcard/card-files.mjs: the YAML files deploy/sdcard.sh puts on a boot partition, made with the
// `yaml` package so a user's own user-data and network-config are merged (their keys and comments kept),
// never rewritten by sed. Run by sdcard.sh on the laptop (which has Node to run the repo); each command
// prints the file's new content on stdout, or exits 3 with the reason it will not merge on stderr.
//
//   node card-files.mjs user-data FILE --hostname H            Hedgerow's runcmd step, hostname, SSH
//   node card-files.mjs network-config FILE --ssid S --pass-file F --country CC
//   node card-files.mjs wifi-env --ssid S --pass-file F --country CC     (Bookworm: for firstboot.sh)
//   node card-files.mjs station-config --id ID --build B [--uplink URL | --aws-dir DIR] [--existing FILE]
//        [--password-out FILE] [--dry-run]
import { Buffer } from 'node:buffer';
import { pbkdf2Sync, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import process from 'node:process';
import { URL } from 'node:url';
import { isDeepStrictEqual, parseArgs } from 'node:util';
import { isMap, isSeq, parse, parseDocument, stringify } from 'yaml';

/** Where the boot partition is on the Pi (Bookworm and Trixie), and so where firstboot.sh is found. */
const BOOT_ON_PI = '/boot/firmware';
/** The one runcmd entry Hedgerow adds: --now starts the install once the network is up, on this boot. */
const RUNCMD = ['bash', `${BOOT_ON_PI}/hedgerow/firstboot.sh`, '--now'];
/** Where firstboot.sh puts the certificates from --aws-dir (mode 0600, owned by the service user). */
const AWS_ON_PI = '/etc/hedgerow/aws';
const AWS_FILES = { cert: 'cert.pem', key: 'key.pem', ca: 'ca.pem' };

class Refusal extends Error {}

function readIfThere(file) {
  return file !== undefined && existsSync(file) ? readFileSync(file, 'utf8') : '';
}

function parseYaml(text, name) {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) throw new Refusal(`${name} is not valid YAML (${doc.errors[0].message.split('\n')[0]}): fix it or delete it, then run again`);
  if (doc.contents !== null && !isMap(doc.contents)) throw new Refusal(`${name} is not a YAML mapping of keys: fix it or delete it, then run again`);
  if (doc.contents === null) doc.contents = doc.createNode({});
  return doc;
}

function userData(file, hostname) {
  const text = readIfThere(file);
  // cloud-init reads user-data by its first line: a script, #include or MIME parts cannot be merged as YAML.
  const first = text.split('\n', 1)[0].trim();
  if (text.trim() !== '' && first !== '#cloud-config') {
    throw new Refusal(
      `user-data starts with '${first.slice(0, 40)}', not '#cloud-config': deploy.sh merges only cloud-config files, and will not replace yours. ` +
        `Add this to it yourself (runcmd) and run again with it moved aside: - [${RUNCMD.join(', ')}]`,
    );
  }
  const doc = parseYaml(text, 'user-data');
  const runcmd = doc.get('runcmd');
  if (runcmd !== undefined && !isSeq(runcmd)) throw new Refusal('user-data has a runcmd that is not a list: make it a list (runcmd:\\n  - ...), then run again');
  const steps = runcmd === undefined ? [] : runcmd.toJSON();
  if (!steps.some((step) => isDeepStrictEqual(step, RUNCMD))) {
    const node = doc.createNode(RUNCMD);
    node.flow = true;
    if (runcmd === undefined) doc.set('runcmd', doc.createNode([]));
    doc.get('runcmd').add(node);
  }
  // Imager's own choices win: only what is missing is added.
  if (hostname !== undefined && !doc.has('hostname')) {
    doc.set('hostname', hostname);
    if (!doc.has('manage_etc_hosts')) doc.set('manage_etc_hosts', true);
  }
  if (!doc.has('enable_ssh')) doc.set('enable_ssh', true);
  const body = doc.toString({ indentSeq: false }); // Imager's own style: list items not indented
  return body.startsWith('#cloud-config') ? body : `#cloud-config\n${body}`;
}

/** WPA's pre-shared key from the passphrase (IEEE 802.11i: PBKDF2-SHA1, 4096 rounds, the SSID as salt), as Imager stores it. */
function wifiKey(ssid, passFile) {
  const pass = readFileSync(passFile, 'utf8').replace(/\r?\n$/, '');
  if (/^[0-9a-fA-F]{64}$/.test(pass)) return pass.toLowerCase();
  if (pass.length < 8 || pass.length > 63 || !/^[\x20-\x7e]*$/.test(pass)) {
    throw new Refusal(`the Wi-Fi passphrase in ${passFile} must be 8 to 63 printable characters (or the 64-hex-digit key): check the file, one line`);
  }
  return pbkdf2Sync(pass, ssid, 4096, 32, 'sha1').toString('hex');
}

function country(code) {
  if (!/^[A-Za-z]{2}$/.test(code ?? '')) throw new Refusal(`--wifi-country must be your two-letter country code (GB, DE, US...), not '${code ?? ''}'`);
  return code.toUpperCase();
}

function networkConfig(file, ssid, passFile, countryCode) {
  const doc = parseYaml(readIfThere(file), 'network-config');
  // cloud-init takes network config v2 with or without the top-level `network:` key; Imager writes it.
  if (!doc.has('network') && !doc.has('version')) doc.set('network', doc.createNode({ version: 2, ethernets: { eth0: { dhcp4: true, dhcp6: true, optional: true } } }));
  const base = doc.has('network') ? ['network'] : [];
  if (doc.getIn([...base, 'version']) !== 2) throw new Refusal('network-config is not version 2 (netplan style): deploy.sh adds Wi-Fi only to a version 2 file; move it aside, then run again');
  const wlan = [...base, 'wifis', 'wlan0'];
  if (!doc.hasIn([...wlan, 'dhcp4'])) doc.setIn([...wlan, 'dhcp4'], true);
  doc.setIn([...wlan, 'regulatory-domain'], country(countryCode));
  doc.setIn([...wlan, 'access-points', ssid], doc.createNode({ password: wifiKey(ssid, passFile) }));
  if (!doc.hasIn([...wlan, 'optional'])) doc.setIn([...wlan, 'optional'], true);
  return doc.toString({ indentSeq: false });
}

function wifiEnv(ssid, passFile, countryCode) {
  // Base64, so any SSID (quotes, spaces, $) is safe in a file the shell reads.
  return `WIFI_SSID_B64=${Buffer.from(ssid).toString('base64')}\nWIFI_PSK=${wifiKey(ssid, passFile)}\nWIFI_COUNTRY=${country(countryCode)}\n`;
}

function brokerUplink(url, id, existing, dryRun) {
  let parsed;
  try {
    parsed = new URL(url);
  } catch {
    throw new Refusal(`--uplink ${url} is not a URL: use mqtts://broker.school.example:8883 (or mqtt://HOST:1883)`);
  }
  if (parsed.protocol !== 'mqtt:' && parsed.protocol !== 'mqtts:') throw new Refusal(`--uplink must be mqtt://HOST[:PORT] or mqtts://HOST[:PORT], not ${parsed.protocol}//`);
  if (parsed.username !== '' || parsed.password !== '') throw new Refusal('--uplink must not hold a login: deploy.sh makes one for this station (its id and a new random password)');
  const before = existing?.uplink;
  // The engine's operator added the password printed on the first run: a second run must keep it.
  if (before?.url === url && before?.username === id && typeof before?.password === 'string') return { uplink: before, password: undefined };
  const password = dryRun ? '(a new random password, made on a real run)' : randomBytes(18).toString('base64url');
  return { uplink: { url, username: id, password }, password: dryRun ? undefined : password };
}

/**
 * The certificate, key and CA in a `./deploy.sh aws` folder: the files uplink.yaml's tls paths name
 * (NAME.cert.pem, NAME.private.key, AmazonRootCA1.pem), or cert.pem, key.pem and ca.pem beside it.
 */
function awsSources(dir) {
  if (!existsSync(`${dir}/uplink.yaml`)) throw new Refusal(`--aws-thing-dir ${dir} has no uplink.yaml: give the folder that ./deploy.sh aws --thing NAME wrote`);
  const fragment = parse(readFileSync(`${dir}/uplink.yaml`, 'utf8')) ?? {};
  const uplink = fragment.uplink ?? fragment;
  if (typeof uplink !== 'object' || typeof uplink.url !== 'string') throw new Refusal(`${dir}/uplink.yaml has no uplink.url: make it again with ./deploy.sh aws`);
  const sources = {};
  for (const [key, name] of Object.entries(AWS_FILES)) {
    const named = typeof uplink.tls?.[key] === 'string' ? `${dir}/${basename(uplink.tls[key])}` : undefined;
    sources[key] = named !== undefined && existsSync(named) ? named : `${dir}/${name}`;
    if (!existsSync(sources[key])) throw new Refusal(`--aws-thing-dir ${dir} has no ${key} file (${named === undefined ? name : basename(named)}): give the folder that ./deploy.sh aws --thing NAME wrote`);
  }
  return { uplink, sources };
}

function awsUplink(dir) {
  const { uplink } = awsSources(dir);
  // The paths are where firstboot.sh puts the files on the Pi, whatever the laptop's were.
  const tls = { ...uplink.tls, ...Object.fromEntries(Object.entries(AWS_FILES).map(([key, name]) => [key, `${AWS_ON_PI}/${name}`])) };
  return { ...uplink, tls };
}

/** `aws-sources --aws-dir DIR`: one `NAME SOURCE` line per file the card carries as aws/NAME. */
function awsSourceLines(dir) {
  return Object.entries(awsSources(dir).sources).map(([key, source]) => `${AWS_FILES[key]} ${source}\n`).join('');
}

function stationConfig(opts) {
  const existing = opts.existing !== undefined && existsSync(opts.existing) ? parse(readFileSync(opts.existing, 'utf8')) : undefined;
  const config = {
    dataDir: '/var/lib/hedgerow',
    station: { id: opts.id, build: opts.build, interval: '5m' },
    hardware: { mode: 'real' },
  };
  let password;
  if (opts.uplink !== undefined) ({ uplink: config.uplink, password } = brokerUplink(opts.uplink, opts.id, existing, opts['dry-run']));
  if (opts['aws-dir'] !== undefined) config.uplink = awsUplink(opts['aws-dir']);
  if (opts['password-out'] !== undefined) writeFileSync(opts['password-out'], password ?? '', { mode: 0o600 });
  return `# Hedgerow station config, written by deploy.sh sdcard: every key has a default; see the README's config reference.\n${stringify(config)}`;
}

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    hostname: { type: 'string' },
    ssid: { type: 'string' },
    'pass-file': { type: 'string' },
    country: { type: 'string' },
    id: { type: 'string' },
    build: { type: 'string' },
    uplink: { type: 'string' },
    'aws-dir': { type: 'string' },
    existing: { type: 'string' },
    'password-out': { type: 'string' },
    'dry-run': { type: 'boolean', default: false },
  },
});
const [command, file] = positionals;
try {
  const out = {
    'user-data': () => userData(file, values.hostname),
    'network-config': () => networkConfig(file, values.ssid, values['pass-file'], values.country),
    'wifi-env': () => wifiEnv(values.ssid, values['pass-file'], values.country),
    'station-config': () => stationConfig(values),
    'aws-sources': () => awsSourceLines(values['aws-dir']),
  }[command];
  if (out === undefined) throw new Refusal(`card-files.mjs: unknown command '${command}'`);
  process.stdout.write(out());
} catch (error) {
  if (!(error instanceof Refusal)) throw error;
  process.stderr.write(`deploy.sh: ${error.message}\n`);
  process.exit(3);
}
