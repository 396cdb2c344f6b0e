package io.ferryvm.cluster.wire;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.KryoException;
import com.esotericsoftware.kryo.Serializer;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Kryo serializers for the JDK's immutable collections (List.of, Map.copyOf, ...), which records use
 * and Kryo cannot build by reflection. Element counts are checked against the bytes left first.
 */
final class CollectionSerializers {
    private CollectionSerializers() {}

    static void register(Kryo kryo) {
        ListSerializer lists = new ListSerializer();
        for (Class<?> c : List.of(List.of().getClass(), List.of(1).getClass(), List.of(1, 2, 3).getClass(),
                new ArrayList<>().getClass(), List.of(1, 2, 3).subList(0, 1).getClass())) {
            kryo.register(c, lists);
        }
        SetSerializer sets = new SetSerializer();
        for (Class<?> c : List.of(Set.of().getClass(), Set.of(1).getClass(), Set.of(1, 2, 3).getClass(), new HashSet<>().getClass())) {
            kryo.register(c, sets);
        }
        MapSerializer maps = new MapSerializer();
        for (Class<?> c : List.of(Map.of().getClass(), Map.of(1, 1).getClass(), Map.of(1, 1, 2, 2).getClass(),
                new LinkedHashMap<>().getClass(), new java.util.HashMap<>().getClass(), new java.util.TreeMap<>().getClass())) {
            kryo.register(c, maps);
        }
    }

    static int count(Input in) {
        int n = in.readVarInt(true);
        int left = in.limit() - in.position();
        if (n < 0 || n > left) {
            throw new KryoException("collection of " + n + " elements, only " + left + " bytes left");
        }
        return n;
    }

    static final class ListSerializer extends Serializer<List<?>> {
        ListSerializer() {
            setImmutable(true);
        }

        @Override
        public void write(Kryo kryo, Output out, List<?> list) {
            out.writeVarInt(list.size(), true);
            for (Object o : list) {
                kryo.writeClassAndObject(out, o);
            }
        }

        @Override
        public List<?> read(Kryo kryo, Input in, Class<? extends List<?>> type) {
            int n = count(in);
            List<Object> out = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                out.add(kryo.readClassAndObject(in));
            }
            return List.copyOf(out);
        }
    }

    static final class SetSerializer extends Serializer<Set<?>> {
        SetSerializer() {
            setImmutable(true);
        }

        @Override
        public void write(Kryo kryo, Output out, Set<?> set) {
            out.writeVarInt(set.size(), true);
            for (Object o : set) {
                kryo.writeClassAndObject(out, o);
            }
        }

        @Override
        public Set<?> read(Kryo kryo, Input in, Class<? extends Set<?>> type) {
            int n = count(in);
            Set<Object> out = new HashSet<>();
            for (int i = 0; i < n; i++) {
                out.add(kryo.readClassAndObject(in));
            }
            return Set.copyOf(out);
        }
    }

    static final class MapSerializer extends Serializer<Map<?, ?>> {
        MapSerializer() {
            setImmutable(true);
        }

        @Override
        public void write(Kryo kryo, Output out, Map<?, ?> map) {
            out.writeVarInt(map.size(), true);
            for (Map.Entry<?, ?> e : map.entrySet()) {
                kryo.writeClassAndObject(out, e.getKey());
                kryo.writeClassAndObject(out, e.getValue());
            }
        }

        @Override
        public Map<?, ?> read(Kryo kryo, Input in, Class<? extends Map<?, ?>> type) {
            int n = count(in);
            Map<Object, Object> out = new LinkedHashMap<>();
            for (int i = 0; i < n; i++) {
                out.put(kryo.readClassAndObject(in), kryo.readClassAndObject(in));
            }
            return Map.copyOf(out);
        }
    }
}
