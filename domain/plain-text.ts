/**
 * Text Postgres can store and a log line can show: no control characters (NUL among them). The
 * API's schemas (api/schemas.ts `plainText`) and the workflow's validators check it alike.
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
export const PLAIN_TEXT = /^[^\u0000-\u001f\u007f]*$/;
