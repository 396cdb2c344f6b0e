package io.ferryvm.cim;

import java.util.List;
import java.util.Map;

/**
 * One decoded CIM-XML operation request. Intrinsic calls keep their IPARAMVALUE elements by lower-case
 * name (each operation decodes the ones it takes); extrinsic calls carry their target (an instance path,
 * or a class path for a static method) and their PARAMVALUE elements.
 */
record CimRequest(String messageId, String method, boolean intrinsic, String namespace, CimObjectPath target,
        Map<String, XmlTree.Node> intrinsicParams, List<XmlTree.Node> extrinsicParams) {}
