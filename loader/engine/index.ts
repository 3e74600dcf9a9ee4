export { load } from './load';
export { DIRECT_PARK_BYTES } from './direct';
export { deleteGame } from './delete-game';
export { folderSource, filesSource, streamFile } from './sources';
export { LoadError, formatError } from './errors';
export type * from './request';
export { DEFAULT_MAX_SHRINK, DEFAULT_MAX_REJECTS } from './request';
