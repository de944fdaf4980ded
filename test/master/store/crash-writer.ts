/**
 * Child process of the SQLite crash test: writes keys from four concurrent tasks forever and
 * prints `ack KEY REVISION` only after the store acknowledged the write. The test kills it with
 * SIGKILL mid-stream and checks every printed key survived.
 */
import { SqliteStore } from '../../../master/store/sqlite-store';

async function main(): Promise<void> {
  const store = new SqliteStore(process.argv[2]);
  const writer = async (task: number): Promise<void> => {
    for (let i = 0; ; i += 1) {
      const key = `/crash/${task}/${i}`;
      const revision = await store.create(key, { task, i, padding: 'x'.repeat(200) });
      process.stdout.write(`ack ${key} ${revision}\n`);
    }
  };
  await Promise.all([0, 1, 2, 3].map(writer));
}

main().catch((err: unknown) => {
  process.stderr.write(`crash-writer failed: ${String(err)}\n`);
  process.exit(1);
});
