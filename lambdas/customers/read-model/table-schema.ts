/** Keys of the customers read-model table, shared by the CDK construct, the handlers and tests. */
export const CUSTOMERS_VIEW_KEY = 'customerId';
/** Global secondary index of customers by the domain of their email. */
export const CUSTOMERS_BY_EMAIL_DOMAIN_INDEX = 'byEmailDomain';
export const CUSTOMERS_BY_EMAIL_DOMAIN_PARTITION_KEY = 'emailDomain';
export const CUSTOMERS_BY_EMAIL_DOMAIN_SORT_KEY = 'customerId';
