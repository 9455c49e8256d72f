import { repositoryFromEnv } from '../../commons/event-store/repository-from-env.js';
import { orderDecider } from '../domain/order.js';
import { OrderCommands } from './order-commands.js';

/** The order commands of a fulfilment function, over the event store named by its environment. */
export const orderCommandsFromEnv = (): OrderCommands => new OrderCommands(repositoryFromEnv(orderDecider));
