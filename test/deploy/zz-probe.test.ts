import { it } from 'vitest';
import { Machine } from './helpers/machine.ts';
import { testKey, sshOptions } from './helpers/remote-deploy.ts';
import { run } from './helpers/machine.ts';
it('probe', { timeout: 300_000 }, async () => {
  const key = testKey();
  const other = testKey();
  const m = await Machine.boot({ files: { '/home/pi/.ssh/authorized_keys': key.publicKey } });
  try {
    const base = ['-o', 'BatchMode=yes', '-p', String(m.sshPort), '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR'];
    console.log('good', await run('ssh', [...base, '-i', key.path, 'pi@127.0.0.1', 'sudo -n true'], 30000));
    console.log('wrong', await run('ssh', [...base, '-i', other.path, 'pi@127.0.0.1', 'sudo -n true'], 30000));
    console.log(await m.exec('ls -la /home/pi/.ssh; journalctl -u ssh --no-pager | tail -5'));
  } finally { await m.stop(); }
});
