DROP TABLE state_documents;
