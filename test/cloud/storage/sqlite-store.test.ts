import { SqliteStore } from '../../../cloud/storage/sqlite-store.ts';
import { cloudStoreConformance } from './cloud-store-conformance.ts';

cloudStoreConformance('SQLite', (dir) => new SqliteStore(dir));
