export default async function globalTeardown(): Promise<void> {
  const infra = globalThis.__FLASH_SALE_INFRA__;
  if (!infra || infra.exitCode !== null) return;
  const exited = new Promise((resolve) => infra.once('exit', resolve));
  infra.kill('SIGTERM');
  await exited;
}
