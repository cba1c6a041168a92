/// Typed access to the records of an open vault.
extension OpenVault {
    public func connection(provider: String, name: String) throws(NotionauthError) -> Connection? {
        guard let bytes = try record(named: Connection.recordName(provider: provider, connection: name)) else { return nil }
        return try decodeRecord(bytes, name: Connection.recordName(provider: provider, connection: name), path: path, as: Connection.self)
    }

    /// Every connection (of `provider`, when given), in record-name order (provider, then
    /// connection name).
    public func connections(provider: String?) throws(NotionauthError) -> [Connection] {
        var result: [Connection] = []
        for (name, bytes) in try records(withPrefix: "connection/" + (provider.map { "\($0)/" } ?? "")) {
            result.append(try decodeRecord(bytes, name: name, path: path, as: Connection.self))
        }
        return result
    }

    public func clientCredentials(provider: String) throws(NotionauthError) -> ClientCredentials? {
        let name = ClientCredentials.recordName(provider: provider)
        guard let bytes = try record(named: name) else { return nil }
        return try decodeRecord(bytes, name: name, path: path, as: ClientCredentials.self)
    }

    public func defaultConnection(provider: String) throws(NotionauthError) -> String? {
        let name = ConnectionDefault.recordName(provider: provider)
        guard let bytes = try record(named: name) else { return nil }
        return try decodeRecord(bytes, name: name, path: path, as: ConnectionDefault.self).connection
    }

    public func defaultProviders() throws(NotionauthError) -> [String] {
        try recordNames.filter { $0.hasPrefix("default/") }.map { String($0.dropFirst("default/".count)) }
    }

    public var connectionCount: Int { get throws(NotionauthError) { try recordNames.filter { $0.hasPrefix("connection/") }.count } }
}

extension VaultContents {
    public func connection(provider: String, name: String, path: String) throws(NotionauthError) -> Connection? {
        let recordName = Connection.recordName(provider: provider, connection: name)
        guard let bytes = records[recordName] else { return nil }
        return try decodeRecord(bytes, name: recordName, path: path, as: Connection.self)
    }

    public mutating func store(_ connection: Connection) {
        records[connection.recordName] = connection.fields.bytes
    }

    @discardableResult
    public mutating func removeConnection(provider: String, name: String) -> Bool {
        records.removeValue(forKey: Connection.recordName(provider: provider, connection: name)) != nil
    }

    public func clientCredentials(provider: String, path: String) throws(NotionauthError) -> ClientCredentials? {
        let name = ClientCredentials.recordName(provider: provider)
        guard let bytes = records[name] else { return nil }
        return try decodeRecord(bytes, name: name, path: path, as: ClientCredentials.self)
    }

    public mutating func store(_ client: ClientCredentials) {
        records[ClientCredentials.recordName(provider: client.provider)] = client.fields.bytes
    }

    public mutating func removeClientCredentials(provider: String) {
        records.removeValue(forKey: ClientCredentials.recordName(provider: provider))
    }

    public func defaultConnection(provider: String, path: String) throws(NotionauthError) -> String? {
        let name = ConnectionDefault.recordName(provider: provider)
        guard let bytes = records[name] else { return nil }
        return try decodeRecord(bytes, name: name, path: path, as: ConnectionDefault.self).connection
    }

    public mutating func setDefaultConnection(_ connection: String?, provider: String) {
        let name = ConnectionDefault.recordName(provider: provider)
        if let connection {
            records[name] = ConnectionDefault(provider: provider, connection: connection).fields.bytes
        } else {
            records.removeValue(forKey: name)
        }
    }
}

extension OpenVault {
    /// Decrypts every record and parses every connection and client record: the whole
    /// file proven intact (`vault verify`). The number of records.
    public func verifyEveryRecord() throws(NotionauthError) -> Int {
        let records = try allRecords()
        _ = try connections()
        for (name, bytes) in try self.records(withPrefix: "client/") {
            _ = try decodeRecord(bytes, name: name, path: path, as: ClientCredentials.self)
        }
        for (name, bytes) in try self.records(withPrefix: "default/") {
            _ = try decodeRecord(bytes, name: name, path: path, as: ConnectionDefault.self)
        }
        return records.count
    }
}
