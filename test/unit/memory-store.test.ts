import { MemoryPoolStore } from '../../src/store/memory-store.js';
import { storeContract } from '../helpers/store-contract.js';

// the same contract runs against a real redis-server in test/integration/redis-store.test.ts
storeContract('memory', async () => new MemoryPoolStore());
