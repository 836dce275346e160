import { defaultMaxConnections, openFilesLimit } from '../../api/connection-cap';

const LIMITS = `Limit                     Soft Limit           Hard Limit           Units
Max processes             95623                95623                processes
Max open files            20000                40000                files
Max locked memory         8388608              8388608              bytes
`;

describe('the API’s connection cap', () => {
  it('reads the soft open-file limit, and nothing where it cannot', () => {
    expect(openFilesLimit(() => LIMITS)).toBe(20_000);
    expect(openFilesLimit(() => LIMITS.replace('20000 ', 'unlimited '))).toBeUndefined();
    expect(
      openFilesLimit(() => {
        throw Object.assign(new Error('no such file'), { code: 'ENOENT' });
      }),
    ).toBeUndefined();
    // This process, on Linux: the real file parses to a number.
    if (process.platform === 'linux') expect(openFilesLimit()).toBeGreaterThan(0);
  });

  it('leaves a tenth of the descriptors, at least 128, for the API’s own sockets and files', () => {
    expect(defaultMaxConnections(20_000)).toBe(18_000);
    expect(defaultMaxConnections(1_024)).toBe(896);
    expect(defaultMaxConnections(100)).toBe(1);
    expect(defaultMaxConnections(undefined)).toBeUndefined();
  });
});
