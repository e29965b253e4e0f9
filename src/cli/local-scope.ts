// The CLI's tenant: images indexed from folders belong to "local", apart from every chat team.
export const LOCAL_TENANT = 'local';
